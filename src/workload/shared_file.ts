/*
 * shared_file.ts — many processes sharing one file MAP_SHARED (the
 * database / shared-library case): every CPU runs `processes` processes
 * (default 4), each keeping the whole file (`filePages`, default 256
 * pages) mapped, so N = cpus × processes processes map every page. One
 * step: the CPU's next process (round robin) munmaps its mapping, maps the
 * file again and touches every page — the pages it owns it writes (page p
 * belongs to process p mod N), the others it reads — so each step removes
 * and re-adds one reverse mapping per page on pages mapped by N ptes: what
 * the rmap schemes differ in. Its time (clock_ms: host, or virtual under the
 * virtual clock) goes to the latency histogram (opLatency).
 *
 * Content oracle across CPUs: a page this CPU's processes own must read
 * exactly the stamp last written; a page another CPU owns must read either
 * the file's contents (never written) or a well-formed stamp for that page,
 * written by its owner CPU, no older than the last one this CPU saw there
 * (one writer per page: coherent memory never goes back). The owner writes
 * the four stamp words one by one, so a reader may catch a half-written
 * stamp: it reads again (up to TORN_RETRIES times) before calling it wrong —
 * a page mapped wrongly reads wrong every time.
 *
 * CPU-local state (plus the shared file, made in setup); bookkeeping
 * allocated at create().
 */
import { NIL, PAGE_SIZE, STAMP_WORDS } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { mm_alloc } from '../mm/mm_struct.js';
import { inode_alloc, file_word } from '../mm/files.js';
import { do_mmap, do_munmap, PROT_READ, PROT_WRITE, MAP_SHARED } from '../vm/mmap.js';
import { mmput } from '../vm/fork.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { newOracle, makeStamp, checkRead, nextVersion, fileKey, stampCheck, ORACLE_WORDS } from './oracle.js';
import { newLatency, record } from './latency.js';
import { clock_ms } from '../timing/index.js';
import { paramInt, paramFields } from './params.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';

export interface SharedFileParams {
  /** processes per CPU, each mapping the whole file */
  processes: number;
  /** pages of the file */
  filePages: number;
}

export const SHARED_FILE_DEFAULTS: SharedFileParams = { processes: 4, filePages: 256 };

const TORN_RETRIES = 16;

function params(spec: WorkloadSpec): SharedFileParams {
  return {
    processes: paramInt(spec, 'processes', SHARED_FILE_DEFAULTS.processes, 1, 64),
    filePages: paramInt(spec, 'filePages', SHARED_FILE_DEFAULTS.filePages, 1, 1 << 20),
  };
}

export const SHARED_FILE: Workload = {
  name: 'shared_file',
  description: 'N processes map one file MAP_SHARED; each step one remaps it and writes its pages, reads the others (per-op latency)',
  spec: paramFields(['processes', 'filePages']),
  validate: (spec) => void params(spec),
  minMemPerCpu: () => 2 << 20,
  setup(monitor: Cpu, spec: WorkloadSpec): WorkloadSetup {
    const ino = inode_alloc(monitor, params(spec).filePages, 0);
    if (ino < 0) throw new Error('shared_file: out of inodes (maxFiles)');
    return { files: [], sharedMm: -1, sharedFiles: [ino] };
  },
  create(cpu: Cpu, spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance {
    const p = params(spec);
    const ino = setup.sharedFiles[0]!;
    const len = p.filePages * PAGE_SIZE;
    const nproc = cpu.m.cfg.cpus * p.processes;
    const oracle = newOracle(cpu.id);
    const buf = new Int32Array(ORACLE_WORDS);
    const mine = new Int32Array(p.filePages); // last version this CPU wrote to a page it owns
    const seen = new Int32Array(p.filePages); // newest version seen on a page another CPU owns
    const mms: number[] = [];
    const addrs: number[] = [];
    for (let k = 0; k < p.processes; k++) {
      const mm = mm_alloc(cpu, cpu.mmCache);
      if (mm === NIL) throw new Error(`shared_file: cannot allocate an mm on cpu ${cpu.id}`);
      const a = do_mmap(cpu, mm, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
      if (a < 0) throw new Error(`shared_file: mmap failed (${a}) on cpu ${cpu.id}`);
      mms.push(mm);
      addrs.push(a);
    }
    const lat = newLatency();
    let ops = 0;
    let torn = 0;
    const where = (a: number) => `shared_file cpu ${cpu.id} file ${ino} page ${(a >>> 12) - (addrs[0]! >>> 12)}`;
    /** A page another CPU writes: the file's contents, or its owner's stamp, never older than last seen. */
    function foreignOk(page: number, owner: number): boolean {
      for (let k = STAMP_WORDS; k < ORACLE_WORDS; k++) if (buf[k] !== file_word(ino, page, k)) return false;
      let pristine = true;
      for (let k = 0; k < STAMP_WORDS; k++) if (buf[k] !== file_word(ino, page, k)) pristine = false;
      if (pristine) return seen[page] === 0;
      const key = fileKey(ino, page);
      const v = buf[2]!;
      if (buf[1] !== key || buf[3] !== stampCheck(key, v) || (v & 63) !== owner || (v | 0) < seen[page]!) return false;
      seen[page] = v;
      return true;
    }
    return {
      step() {
        const k = ops % p.processes;
        const mm = mms[k]!;
        const me = cpu.id * p.processes + k;
        const t0 = clock_ms();
        do_munmap(cpu, mm, addrs[k]!, len);
        const a = do_mmap(cpu, mm, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, ino, 0);
        if (a < 0) throw new Error(`shared_file: mmap failed (${a}) on cpu ${cpu.id}`);
        addrs[k] = a;
        for (let page = 0; page < p.filePages; page++) {
          const addr = a + page * PAGE_SIZE;
          const g = page % nproc;
          const owner = Math.floor(g / p.processes);
          if (g === me) {
            const v = nextVersion(oracle);
            makeStamp(oracle, buf, fileKey(ino, page), v);
            const r = user_access(cpu, mm, addr, true, buf, STAMP_WORDS);
            if (r !== ACCESS_OK) throw new Error(`shared_file: write at 0x${addr.toString(16)} failed (${r}) on cpu ${cpu.id}`);
            mine[page] = v;
            continue;
          }
          let ok = false;
          for (let tries = 0; tries < TORN_RETRIES && !ok; tries++) {
            const r = user_access(cpu, mm, addr, false, buf, ORACLE_WORDS);
            if (r !== ACCESS_OK) throw new Error(`shared_file: read at 0x${addr.toString(16)} failed (${r}) on cpu ${cpu.id}`);
            if (owner === cpu.id) {
              ok = checkRead(oracle, buf, mine[page]!, fileKey(ino, page), ino, page, true, where(addr));
              break;
            }
            oracle.checks++;
            ok = foreignOk(page, owner);
            if (!ok) torn++;
          }
          if (!ok) {
            cpu.w[cpu.vm + VM.oracle_fail]!++;
            if (owner !== cpu.id && oracle.failures.length < 20)
              oracle.failures.push(`${where(addr)}: read [${Array.from(buf).join(',')}], not the file's contents nor cpu ${owner}'s stamp (newest seen v${seen[page]})`);
          }
        }
        record(lat, clock_ms() - t0);
        ops++;
        return p.filePages;
      },
      end() {
        for (const mm of mms) mmput(cpu, mm);
      },
      result() {
        return { units: ops * p.filePages, failures: oracle.failures, extra: { oracleChecks: oracle.checks, tornRereads: torn }, latency: lat };
      },
    };
  },
  teardown() {},
};
