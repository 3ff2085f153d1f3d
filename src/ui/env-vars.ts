/**
 * Environment variables printed for another program to read: `eval "$(sympozium env demo --reveal)"` in a
 * POSIX shell, `sympozium env demo --format fish | source`, a .env file, PowerShell, or one JSON object.
 * Values are quoted for the format, so a key or URL can never end the quoting and run something.
 */

const envFormats = ['shell', 'dotenv', 'json', 'fish', 'powershell'] as const;
export type EnvFormat = (typeof envFormats)[number];

export function renderEnv(vars: Record<string, string>, format: EnvFormat): string {
  const entries = Object.entries(vars);
  switch (format) {
    case 'json':
      return `${JSON.stringify(vars, null, 2)}\n`;
    case 'dotenv':
      return entries.map(([name, value]) => `${name}=${dotenvQuote(value)}\n`).join('');
    case 'fish':
      return entries.map(([name, value]) => `set -gx ${name} ${fishQuote(value)}\n`).join('');
    case 'powershell':
      return entries.map(([name, value]) => `$env:${name} = '${value.replace(/'/g, "''")}'\n`).join('');
    case 'shell':
      return entries.map(([name, value]) => `export ${name}=${shellQuote(value)}\n`).join('');
  }
}

/** Bare when only safe characters, else single quotes (a quote inside becomes '\''). */
function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function fishQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** dotenv readers agree on double quotes with \" and \\ escapes; bare values are safest without spaces or #. */
function dotenvQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]*$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
