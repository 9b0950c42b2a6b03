// Token-file identities (kube-apiserver --token-auth-file format) and role mapping.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokenFile, roleOf, TokenFileAccess, TokenFileError } from '../../alerts/auth.js';
import { memoryLogger, tempDir } from './support.js';

describe('parseTokenFile', () => {
  it('reads token,user,uid and quoted group lists as kube-apiserver does', () => {
    const entries = parseTokenFile(
      [
        '# security team',
        't-admin,alice,u-1,"security-admins,devs"',
        '',
        't-reader,bob,u-2,security-readers',
        't-none,carol,u-3',
        '  t-spaces , dave , u-4 , " g1 , g2 "',
        '"t,quoted","eve ""the"" user",u-5,"a"',
      ].join('\r\n'),
      'tokens.csv',
    );
    expect(entries.map(({ user, uid, groups, line }) => ({ user, uid, groups, line }))).toEqual([
      { user: 'alice', uid: 'u-1', groups: ['security-admins', 'devs'], line: 2 },
      { user: 'bob', uid: 'u-2', groups: ['security-readers'], line: 4 },
      { user: 'carol', uid: 'u-3', groups: [], line: 5 },
      { user: 'dave', uid: 'u-4', groups: ['g1', 'g2'], line: 6 },
      { user: 'eve "the" user', uid: 'u-5', groups: ['a'], line: 7 },
    ]);
    expect(entries[0]!.tokenHash).toHaveLength(32);
  });

  it.each([
    ['too few fields', 'tok,alice', /tokens\.csv:1: expected token,user,uid\[,"group1,group2"\], found 2 fields/],
    ['unquoted groups', 'tok,alice,u1,g1,g2', /tokens\.csv:1: 5 fields where at most 4 are allowed: quote the groups/],
    ['an empty token', ',alice,u1', /tokens\.csv:1: the token is empty/],
    ['an empty user', 'tok,,u1', /tokens\.csv:1: the user name is empty/],
    ['a duplicate token', 'tok,alice,u1\ntok,bob,u2', /tokens\.csv:2: the same token as line 1/],
    ['an unterminated quote', 'ok,a,b\ntok,alice,u1,"g1,g2', /tokens\.csv:2: unterminated quoted field/],
    ['a stray quote', 'to"k,alice,u1', /tokens\.csv:1: a quote inside an unquoted field/],
    ['text after a closing quote', 'tok,alice,u1,"g1"x', /tokens\.csv:1: extraneous character "x" after a closing quote/],
  ])('rejects %s, naming the line', (_name, text, message) => {
    expect(() => parseTokenFile(text, 'tokens.csv')).toThrow(TokenFileError);
    expect(() => parseTokenFile(text, 'tokens.csv')).toThrow(message);
  });

  it('reports every bad line at once', () => {
    expect(() => parseTokenFile('a,b\nok,u,1\nc,d', 'f')).toThrow(/f:1: .*\nf:3: /);
  });
});

describe('roles', () => {
  const roles = { admin: ['security-admins'], reader: ['security-readers'] };
  it.each([
    [['security-admins'], 'admin'],
    [['security-readers', 'security-admins'], 'admin'],
    [['security-readers'], 'reader'],
    [['devs'], undefined],
    [[], undefined],
  ])('groups %j give %s', (groups, role) => {
    expect(roleOf(groups, roles)).toBe(role);
  });
});

describe('TokenFileAccess', () => {
  const roles = { admin: ['security-admins'], reader: ['security-readers'] };

  it('authenticates tokens, authorizes by role, and reloads the file when it changes', async () => {
    const file = path.join(tempDir(), 'tokens.csv');
    fs.writeFileSync(file, 'reader-token,bob,u-2,security-readers\n');
    const { logger, lines } = memoryLogger();
    const access = new TokenFileAccess(file, roles, logger, { checkIntervalMs: 0 });
    const bob = await access.authenticate('reader-token');
    expect(bob).toEqual({ username: 'bob', uid: 'u-2', groups: ['security-readers'] });
    expect(await access.authorize(bob!, 'list')).toBe(true);
    expect(await access.authorize(bob!, 'get')).toBe(true);
    expect(await access.authorize(bob!, 'update')).toBe(false);
    expect(await access.authenticate('reader-token ')).toBeUndefined();
    expect(await access.authenticate('admin-token')).toBeUndefined();

    fs.writeFileSync(file, 'reader-token,bob,u-2,security-readers\nadmin-token,alice,u-1,"security-admins"\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const alice = await access.authenticate('admin-token');
    expect(alice?.username).toBe('alice');
    expect(await access.authorize(alice!, 'update')).toBe(true);

    // A broken edit keeps the tokens loaded before, and says so.
    fs.writeFileSync(file, 'admin-token,alice\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 10000));
    expect((await access.authenticate('admin-token'))?.username).toBe('alice');
    expect(lines.some((l) => /token file has errors/.test(l.msg) && /tokens\.csv:1/.test(l.error))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('admin-token');
  });

  it('refuses to start on a missing or malformed file', () => {
    const { logger } = memoryLogger();
    const dir = tempDir();
    expect(() => new TokenFileAccess(path.join(dir, 'nope.csv'), roles, logger)).toThrow(/cannot read the token file .*nope\.csv: ENOENT/);
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'x,y,z\nbroken\n');
    expect(() => new TokenFileAccess(path.join(dir, 'bad.csv'), roles, logger)).toThrow(/bad\.csv:2: expected token,user,uid/);
  });
});
