// An exclusive lock on the PGlite data directory. PGlite is PostgreSQL in
// one process with no server in front: two processes opening the same
// directory overwrite each other's pages (a lost acknowledged write, then a
// directory PGlite cannot open). So the first process writes its PID into
// `<dir>.lock`, created with O_EXCL so only one creation can succeed, and
// removes it on exit; a second process refuses to start and names the owner.
//
// A lock whose PID is no longer running (kill -9, power loss) is stale and
// taken over. Taking over is itself guarded by `<dir>.lock.takeover`
// (also O_EXCL), so two processes finding the same stale lock cannot both
// delete it and each believe it is theirs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export class DataDirLockedError extends Error {
  readonly pid: number;
  constructor(message: string, pid: number) {
    super(message);
    this.pid = pid;
  }
}

export interface DataDirLock {
  /** The lock file. */
  readonly file: string;
  /** Set when a stale lock was replaced: the PID that had left it. */
  readonly tookOverFrom?: number;
  /** Removes the lock file if it is still this process's; safe to call twice. */
  release(): void;
}

interface Owner {
  pid: number;
  host?: string;
  since?: string;
}

// Lock files held by this process. A lock file naming our own PID that is not
// in here was left by an earlier process that had the same PID: in a
// container the server is often PID 1 on every start.
const held = new Set<string>();

// A lock file is created and written in two steps; a reader may see it empty
// for a moment. Only an empty or unreadable file older than this is stale.
const UNWRITTEN_GRACE_MS = 500;
const RETRIES = 50;
const RETRY_DELAY_MS = 20;

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The owner recorded in `file`; null when it is gone; undefined when it cannot be read (yet). */
function readOwner(file: string): Owner | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const owner = JSON.parse(text) as Owner;
    return Number.isInteger(owner.pid) && owner.pid > 0 ? owner : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Creates `file` holding our PID, or returns false if it exists. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    const owner: Owner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    fs.writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function unlinkIfExists(file: string) {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Whether the recorded owner still holds the lock. */
function ownerHolds(file: string, owner: Owner): boolean {
  if (owner.pid === process.pid) return held.has(file);
  return isAlive(owner.pid);
}

/**
 * Removes the stale lock `file` (whose owner was `stale`), unless someone else
 * is taking it over or it changed meanwhile. Returns whether to retry at once.
 */
function takeOver(file: string, stale: Owner | undefined): boolean {
  const guard = `${file}.takeover`;
  if (!tryCreate(guard)) {
    const other = readOwner(guard);
    // A takeover left behind by a process that died in the middle of it.
    if (other === null || (other && !ownerHolds(guard, other)) || (other === undefined && ageMs(guard) > UNWRITTEN_GRACE_MS)) {
      unlinkIfExists(guard);
      return true;
    }
    return false;
  }
  held.add(guard);
  try {
    const now = readOwner(file);
    const unchanged = stale ? now?.pid === stale.pid : now === undefined;
    if (unchanged) unlinkIfExists(file);
    return true;
  } finally {
    held.delete(guard);
    unlinkIfExists(guard);
  }
}

/**
 * Takes the lock on `dir` (a PGlite data directory) for this process, or
 * throws DataDirLockedError naming the process that holds it. The lock is
 * released on `release()` and, as a fallback, when the process exits.
 */
export function lockDataDir(dir: string): DataDirLock {
  const resolved = path.resolve(dir);
  const file = `${resolved}.lock`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (held.has(file)) throw new DataDirLockedError(`${resolved} is already locked by this process`, process.pid);

  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    if (tryCreate(file)) {
      held.add(file);
      const release = () => {
        if (!held.delete(file)) return;
        process.removeListener("exit", release);
        // Never remove a lock that is no longer ours.
        if (readOwner(file)?.pid === process.pid) unlinkIfExists(file);
      };
      process.on("exit", release);
      return { file, tookOverFrom, release };
    }
    const owner = readOwner(file);
    if (owner === null) continue; // released meanwhile
    if (owner && ownerHolds(file, owner)) {
      const where = owner.host && owner.host !== os.hostname() ? ` on host ${owner.host}` : "";
      throw new DataDirLockedError(
        `the data directory ${resolved} is in use by process ${owner.pid}${where} (lock file ${file}). ` +
          `Stop that process first, or give this one another DATA_DIR. If no such process is running, delete the lock file.`,
        owner.pid,
      );
    }
    if (owner === undefined && ageMs(file) <= UNWRITTEN_GRACE_MS) {
      sleepSync(RETRY_DELAY_MS);
      continue;
    }
    if (owner) tookOverFrom = owner.pid;
    if (!takeOver(file, owner)) sleepSync(RETRY_DELAY_MS);
  }
  throw new DataDirLockedError(`could not lock the data directory ${resolved} (lock file ${file}): it keeps changing hands`, 0);
}

/**
 * Set by the server for a child process it runs on its data directory while
 * it holds the lock and has the database closed (the start-up read-model
 * build): the child does not take the lock itself.
 */
export const DATA_DIR_LOCK_HELD_ENV = "DATELINE_DATA_DIR_LOCK_HELD_BY_PARENT";
