/*
 * tlb_flush.ts — will-it-scale's tlb_flush1/2/3 (tests/tlb_flush*.c), each
 * as _processes and _threads:
 *
 *   tlb_flush1  mmap a file (one per CPU) MAP_PRIVATE, 128 MiB; per page:
 *               write it (COW of the page-cache page), madvise(DONTNEED)
 *               it, read it back: the file's contents again; munmap
 *   tlb_flush2  the same over 1 MiB of anonymous memory: reads zeros
 *   tlb_flush3  the file MAP_SHARED: the read finds the value written
 *
 * madvise(MADV_DONTNEED) zaps the pte and, before the page can be freed,
 * flushes the TLBs of the mm (vm/madvise.ts → mm/tlb.ts): in _processes
 * only the CPU itself uses the mm (a local flush), in _threads every CPU
 * does, so each madvise waits for the others (nr_tlb_remote_flush): the
 * difference the tests exist to show. units = pages (will-it-scale's
 * iterations); the read-back is checked by the content oracle (the test's
 * own assert).
 *
 * CPU-local state; bookkeeping allocated at create().
 */
import { PAGE_SIZE, PAGE_SHIFT } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { do_mmap, do_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS } from '../vm/mmap.js';
import { sys_madvise, MADV_DONTNEED } from '../vm/madvise.js';
import { mmput } from '../vm/fork.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { newOracle, makeStamp, checkRead, nextVersion, fileKey, ORACLE_WORDS } from './oracle.js';
import { MiB, regionOf, wisSetup, wisMm, wisTeardown, wisName, WILL_IT_SCALE_SPEC } from './wis.js';
import type { Cpu } from '../vm/cpu.js';
import type { Workload, WorkloadSpec, WorkloadSetup, WorkloadInstance } from './types.js';

const FILE_PRIVATE = 1;
const ANON = 2;
const FILE_SHARED = 3;

const DEFAULT_BYTES = [0, 128 * MiB, 1 * MiB, 128 * MiB];

function make(test: number, threads: boolean, description: string): Workload {
  const name = wisName(`tlb_flush${test}`, threads);
  const file = test !== ANON;
  const len = (spec: WorkloadSpec) => regionOf(spec, DEFAULT_BYTES[test]!);
  return {
    name,
    description,
    spec: WILL_IT_SCALE_SPEC,
    // the file's page cache stays resident beside the one COW page in flight
    minMemPerCpu: (spec) => (file ? len(spec) : 0) + 2 * MiB,
    setup(monitor: Cpu, spec: WorkloadSpec, cpus: number): WorkloadSetup {
      return wisSetup(monitor, name, cpus, threads, file ? len(spec) >>> PAGE_SHIFT : 0);
    },
    create(cpu: Cpu, spec: WorkloadSpec, setup: WorkloadSetup): WorkloadInstance {
      const bytes = len(spec);
      const mm = wisMm(cpu, name, setup);
      const ino = file ? setup.files[cpu.id]![0]! : -1;
      const flags = test === FILE_PRIVATE ? MAP_PRIVATE : test === FILE_SHARED ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
      const oracle = newOracle(cpu.id);
      const buf = new Int32Array(ORACLE_WORDS);
      let units = 0;
      return {
        step() {
          const a = do_mmap(cpu, mm, 0, bytes, PROT_READ | PROT_WRITE, flags, ino, 0);
          if (a < 0) throw new Error(`${name}: mmap failed (${a}) on cpu ${cpu.id}`);
          for (let off = 0; off < bytes; off += PAGE_SIZE) {
            const addr = a + off;
            const idx = off >>> PAGE_SHIFT;
            const key = test === FILE_SHARED ? fileKey(ino, idx) : addr >>> PAGE_SHIFT;
            const v = nextVersion(oracle);
            makeStamp(oracle, buf, key, v);
            let r = user_access(cpu, mm, addr, true, buf, 4);
            if (r !== ACCESS_OK) throw new Error(`${name}: write fault failed (${r}) at 0x${addr.toString(16)}`);
            r = sys_madvise(cpu, mm, addr, PAGE_SIZE, MADV_DONTNEED);
            if (r !== 0) throw new Error(`${name}: madvise failed (${r}) at 0x${addr.toString(16)}`);
            r = user_access(cpu, mm, addr, false, buf, ORACLE_WORDS);
            if (r !== ACCESS_OK) throw new Error(`${name}: read fault failed (${r}) at 0x${addr.toString(16)}`);
            // private: the write went with the zapped COW copy (file contents / zeros); shared: it is in the page cache
            const want = test === FILE_SHARED ? v : 0;
            if (!checkRead(oracle, buf, want, key, ino, idx, file, `${name} cpu ${cpu.id} 0x${addr.toString(16)} after MADV_DONTNEED`)) {
              cpu.w[cpu.vm + VM.oracle_fail]!++;
            }
          }
          do_munmap(cpu, mm, a, bytes);
          const n = bytes >>> PAGE_SHIFT;
          units += n;
          return n;
        },
        end() {
          mmput(cpu, mm);
        },
        result() {
          return { units, failures: oracle.failures, extra: { oracleChecks: oracle.checks } };
        },
      };
    },
    teardown: wisTeardown,
  };
}

export const TLB_FLUSH: Workload[] = [];
for (const threads of [false, true]) {
  TLB_FLUSH.push(
    make(FILE_PRIVATE, threads, 'per page of a 128 MiB private file mapping: write, madvise(DONTNEED), read back the file'),
    make(ANON, threads, 'per page of 1 MiB anonymous: write, madvise(DONTNEED), read back zeros'),
    make(FILE_SHARED, threads, 'per page of a 128 MiB shared file mapping: write, madvise(DONTNEED), read back the write'),
  );
}
