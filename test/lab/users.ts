// OS users of the lab: one per node (the PostgreSQL / pooler OS user, also its SSH login) and two shared
// SSH login users for the sudo paths. Users are created once and kept across `down` (reused next time).
import { mkdir, readFile, rename, chown, chmod } from 'node:fs/promises';
import { run, writeOwned, type OsUser } from './proc.js';
import { LAB_BASE, LAB_SLOT, LAB_USER_PREFIX } from './paths.js';

export const SUDO_NOPASSWD_USER = `${LAB_USER_PREFIX}sudo`;
export const SUDO_PASSWORD_USER = `${LAB_USER_PREFIX}sudopw`;
const SUDOERS_FILE =
  LAB_SLOT === 0 ? '/etc/sudoers.d/pgharden-lab' : `/etc/sudoers.d/pgharden-lab-slot${LAB_SLOT}`;
const SHARED_HOME = `${LAB_BASE}/home`;

interface PasswdEntry extends OsUser {
  shell: string;
}

async function readPasswd(): Promise<Map<string, PasswdEntry>> {
  const users = new Map<string, PasswdEntry>();
  for (const line of (await readFile('/etc/passwd', 'utf8')).split('\n')) {
    const [name, , uid, gid, , home, shell] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined || home === undefined) continue;
    users.set(name, { name, uid: Number(uid), gid: Number(gid), home, shell: shell ?? '' });
  }
  return users;
}

async function shadowField(name: string): Promise<string | undefined> {
  for (const line of (await readFile('/etc/shadow', 'utf8')).split('\n')) {
    const [user, hash] = line.split(':');
    if (user === name) return hash;
  }
  return undefined;
}

/**
 * Make sure `name` exists as a system user with bash and `home`, and is not locked for key logins
 * (useradd leaves `!`, which sshd with UsePAM no treats as locked; `*` allows keys, no password).
 * useradd/usermod lock /etc/passwd, so call this sequentially.
 */
export async function ensureUser(
  name: string,
  home: string,
  passwd?: Map<string, PasswdEntry>,
): Promise<OsUser> {
  const users = passwd ?? (await readPasswd());
  const existing = users.get(name);
  if (existing === undefined) {
    await run('useradd', ['--system', '--shell', '/bin/bash', '--home-dir', home, '--no-create-home', name]);
  } else if (existing.home !== home || existing.shell !== '/bin/bash') {
    await run('usermod', ['--home', home, '--shell', '/bin/bash', name]);
  }
  const hash = await shadowField(name);
  if (hash === undefined || hash.startsWith('!') || hash === '') {
    await run('usermod', ['-p', '*', name]);
  }
  const entry = (await readPasswd()).get(name);
  if (entry === undefined) throw new Error(`lab: user ${name} was not created`);
  return { name, uid: entry.uid, gid: entry.gid, home };
}

/** An existing user's uid, gid and home (undefined when there is no such user). */
export async function lookupUser(name: string): Promise<OsUser | undefined> {
  const e = (await readPasswd()).get(name);
  return e === undefined ? undefined : { name: e.name, uid: e.uid, gid: e.gid, home: e.home };
}

/** Create (sequentially) every node user; returns them by name. */
export async function ensureUsers(specs: { name: string; home: string }[]): Promise<Map<string, OsUser>> {
  const passwd = await readPasswd();
  const out = new Map<string, OsUser>();
  for (const s of specs) out.set(s.name, await ensureUser(s.name, s.home, passwd));
  return out;
}

/** Home directory for `user`: created (or fixed) with owner and mode. */
export async function makeHome(user: OsUser, mode = 0o700): Promise<void> {
  await mkdir(user.home, { recursive: true });
  await chown(user.home, user.uid, user.gid);
  await chmod(user.home, mode);
}

export interface SudoUsers {
  nopasswd: OsUser;
  withPassword: OsUser;
}

/**
 * The two shared login users for the sudo paths and their sudoers rules. `password` is set for
 * lab_sudopw each time (chpasswd from stdin). Debian's /etc/pam.d/sudo uses common-auth (pam_unix)
 * and so accepts the shadow password; the e2e test checks it through `sudo -S`.
 */
export async function ensureSudoUsers(password: string): Promise<SudoUsers> {
  await mkdir(SHARED_HOME, { recursive: true, mode: 0o755 });
  await chmod(SHARED_HOME, 0o755);
  const nopasswd = await ensureUser(SUDO_NOPASSWD_USER, `${SHARED_HOME}/${SUDO_NOPASSWD_USER}`);
  const withPassword = await ensureUser(SUDO_PASSWORD_USER, `${SHARED_HOME}/${SUDO_PASSWORD_USER}`);
  await makeHome(nopasswd);
  await makeHome(withPassword);
  await run('chpasswd', [], { input: `${SUDO_PASSWORD_USER}:${password}\n` });
  const rules =
    `# Written by the pgharden lab (test/lab): SSH login users for the sudo paths.\n` +
    `${SUDO_NOPASSWD_USER} ALL=(ALL) NOPASSWD: ALL\n` +
    `${SUDO_PASSWORD_USER} ALL=(ALL) ALL\n`;
  let current = '';
  try {
    current = await readFile(SUDOERS_FILE, 'utf8');
  } catch {
    // not there yet
  }
  if (current !== rules) {
    const tmp = `${SUDOERS_FILE}.tmp`;
    await writeOwned(tmp, rules, 0o440);
    await run('visudo', ['-c', '-q', '-f', tmp]);
    await rename(tmp, SUDOERS_FILE);
  }
  return { nopasswd, withPassword };
}
