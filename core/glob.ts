// Globs as users write them in config (image and identity patterns).

/** Compiles a glob (`*` any run of characters, slashes included; `?` one character) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}
