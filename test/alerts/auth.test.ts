// Token-file identities (kube-apiserver --token-auth-file format) and role mapping.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokenFile, parseTokenFileDetailed, roleOf, TokenFileAccess, TokenFileError, TtlCache } from '../../alerts/auth.js';
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

  it('ignores columns after the 4th as kube-apiserver does, with a warning naming the line', () => {
    const { entries, warnings } = parseTokenFileDetailed('tok,alice,u1,g1,g2\ntok2,bob,u2,"g1,g2",extra', 'tokens.csv');
    expect(entries.map((e) => [e.user, e.groups])).toEqual([
      ['alice', ['g1']],
      ['bob', ['g1', 'g2']],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/^tokens\.csv:1: 5 fields: columns after the 4th are ignored/),
      expect.stringMatching(/^tokens\.csv:2: 5 fields/),
    ]);
  });

  it('numbers lines right after a quoted field that spans lines', () => {
    expect(() => parseTokenFile('a,b,c,"g1,\ng2"\nbroken', 'f')).toThrow(/^f:3: expected token,user,uid/);
  });

  it('never quotes a token in a syntax error', () => {
    expect(() => parseTokenFile('sec"ret-token,alice,u1', 'f')).toThrow(TokenFileError);
    try {
      parseTokenFile('sec"ret-token,alice,u1', 'f');
    } catch (err) {
      expect((err as Error).message).not.toMatch(/sec|ret-token/);
    }
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

    // A broken edit revokes every token of the file (fail closed), and says so.
    fs.writeFileSync(file, 'reader-token,bob,u-2,security-readers\nadmin-token,alice\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 10000));
    expect(await access.authenticate('admin-token')).toBeUndefined();
    expect(await access.authenticate('reader-token')).toBeUndefined();
    expect(lines.some((l) => /every token of it is revoked/.test(l.msg) && /tokens\.csv:2/.test(l.error))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('admin-token');
    expect(JSON.stringify(lines)).not.toContain('reader-token');
  });

  describe('fails closed when the file turns bad, and recovers when it is fixed', () => {
    const cases: [string, (file: string) => void, RegExp][] = [
      ['rewritten with one bad line', (f) => fs.writeFileSync(f, 'reader-token,bob,u-2,security-readers\nbroken\n'), /tokens\.csv:2: expected token,user,uid/],
      ['rewritten with a syntax error', (f) => fs.writeFileSync(f, 'reader-token,bob,u-2,"security-readers\n'), /unterminated quoted field/],
      ['deleted', (f) => fs.rmSync(f), /cannot read the token file .*tokens\.csv: ENOENT/],
      [
        'replaced by something unreadable',
        (f) => {
          fs.rmSync(f);
          fs.mkdirSync(f);
        },
        /cannot read the token file .*tokens\.csv: EISDIR/,
      ],
      [
        'grown past the size limit',
        (f) => fs.writeFileSync(f, 'reader-token,bob,u-2,security-readers\n' + '#'.repeat(4 * 1024 * 1024) + '\n'),
        /larger than 4194304 bytes/,
      ],
    ];
    it.each(cases)('%s', async (_name, breakIt, reason) => {
      const file = path.join(tempDir(), 'tokens.csv');
      fs.writeFileSync(file, 'reader-token,bob,u-2,security-readers\n');
      const access = new TokenFileAccess(file, roles, memoryLogger().logger, { checkIntervalMs: 0 });
      expect(access.readiness()).toEqual({ ready: true });
      expect((await access.authenticate('reader-token'))?.username).toBe('bob');

      breakIt(file);
      expect(await access.authenticate('reader-token')).toBeUndefined();
      const r = access.readiness();
      expect(r.ready).toBe(false);
      expect(r.reason).toMatch(reason);
      expect(r.reason).toMatch(/every token of the file is revoked/);
      expect(r.reason).not.toContain('reader-token');

      fs.rmSync(file, { recursive: true, force: true });
      fs.writeFileSync(file, 'reader-token,bob,u-2,security-readers\nnew-token,carol,u-3\n');
      expect((await access.authenticate('reader-token'))?.username).toBe('bob');
      expect((await access.authenticate('new-token'))?.username).toBe('carol');
      expect(access.readiness()).toEqual({ ready: true });
    });
  });

  it('refuses to start on a missing or malformed file', () => {
    const { logger } = memoryLogger();
    const dir = tempDir();
    expect(() => new TokenFileAccess(path.join(dir, 'nope.csv'), roles, logger)).toThrow(/cannot read the token file .*nope\.csv: ENOENT/);
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'x,y,z\nbroken\n');
    expect(() => new TokenFileAccess(path.join(dir, 'bad.csv'), roles, logger)).toThrow(/bad\.csv:2: expected token,user,uid/);
  });
});

describe('TtlCache (lru-cache)', () => {
  it('forgets entries after the TTL and never holds more than its bound', () => {
    let now = 1_000;
    const cache = new TtlCache<{ v: number }>(10_000, 3, () => now);
    cache.set('a', { v: 1 });
    now += 9_999;
    expect(cache.get('a')).toEqual({ v: 1 });
    now += 2;
    expect(cache.get('a')).toBeUndefined();
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, { v: i });
    expect(cache.size).toBe(3);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k9')).toEqual({ v: 9 });
  });

  it('caches nothing with a TTL of 0 (lru-cache alone would keep entries forever)', () => {
    const cache = new TtlCache<{ v: number }>(0, 10);
    cache.set('a', { v: 1 });
    expect(cache.get('a')).toBeUndefined();
  });
});
