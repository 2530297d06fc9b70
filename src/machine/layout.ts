/*
 * layout.ts — where everything lives in the one SharedArrayBuffer.
 *
 * This is the only file that computes offsets (DESIGN.md §1). Every region is
 * a run of Int32 words (Atomics wants Int32Array); offsets below are WORD
 * offsets into the machine's Int32Array `m.w`, never byte offsets, except where
 * a Float64 view is named (`f64` offsets = word offset / 2).
 *
 *   +-------------------+  0
 *   | header            |  config words, run state (barrier, gate, stop)
 *   | global lines      |  one 64-byte line per global lock + what it guards
 *   | per-CPU areas     |  vmstat, lock_stat, MCS nodes, pcp list, pagevec,
 *   |                   |  TLB-shootdown seq, refault histogram, trace ring
 *   | mem_map           |  one 16-word struct page per frame
 *   | mm table          |  MM_WORDS per address space
 *   | VMA table         |  VMA_WORDS per vm_area_struct
 *   | inodes            |  INODE_WORDS per file (+ its tree_lock, i_mmap)
 *   | page-cache hash   |  bucket heads, chained through page->hash_next
 *   | file store        |  the "disk" of each file page (stamp overlay)
 *   | shmem swap index  |  one swap entry per (shmem inode, page): 2.4's shmem_swp
 *   | rmap pool         |  vm_node / pte_chain / anon_vma objects
 *   | swap_map          |  one count per swap slot
 *   | wbq               |  the swap device's ring: pfn, completion time (f64)
 *   | freeq             |  the freeable queue's ring of pfns
 *   | nonresident       |  nr_bucket[]: one cache line each
 *   | lockdep           |  class x class dependency matrix + report
 *   | frames (RAM)      |  4 KiB per frame, page aligned; page tables too
 *   | swap slots        |  4 KiB per swap slot (the swap device)
 *   +-------------------+
 *
 * Geometry is i386 without PAE: 4 KiB pages, 1024 entries per table.
 * Locking: none here; each region's own module states its rule.
 */
import type { Config } from '../config.js';
import { RMAP_SCHEMES, LOCK_SCHEMES, LOCK_IMPLS, POLICIES } from '../config.js';

export const MAGIC = 0x534d5056; // 'SMPV'
export const LAYOUT_VERSION = 1;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_WORDS = PAGE_SIZE >> 2; // 1024
export const PTRS_PER_PTE = 1024;
export const PTRS_PER_PGD = 1024;
export const PGDIR_SHIFT = 22;
export const LINE_WORDS = 16; // one 64-byte cache line
export const MAX_ORDER = 11; // orders 0..10
export const NIL = -1;

/* ---- lock footprint: every lock is LOCK_WORDS words, 16-byte aligned ---- */
export const LOCK_WORDS = 4;
export const LK_STATE = 0; // the lock word (tas/ttas/futex state, ticket "next", mcs tail, rwsem count)
export const LK_AUX = 1; // ticket "owner", rwsem waiters
export const LK_LAST = 2; // last acquirer cpu + 1 (for lock_stat bounces)
export const LK_HOLDER = 3; // holder cpu + 1 (debug assertHeld; writer owner for rwsem)

/* ---- header ---- */
export const HDR_WORDS = 64;
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_NR_CPUS = 2;
export const H_NR_FRAMES = 3;
export const H_NR_SWAP = 4;
export const H_RMAP = 5;
export const H_LOCKS = 6;
export const H_LOCK_IMPL = 7;
export const H_POLICY = 8;
export const H_FLAGS = 9;
export const H_SEED = 10;
export const H_NR_SLOTS_CPU = 11; // cpus + 2 (kswapd, monitor)
/* run state: each on its own line so the barrier/stop spinning bounces nothing else */
export const H_BARRIER = 16; // CPUs checked in
export const H_GATE = 32; // 0 closed, 1 open (Atomics.wait/notify)
export const H_STOP = 33; // 1 = stop requested
export const H_ERROR = 34; // cpu+1 of the first CPU that threw
export const H_STW = 48; // stop-the-world checkpoint word (sim/)
export const H_STW_PARKED = 49;
export const H_RUNNING = 50; // CPUs still running their workload
/** CPU slot ids beyond the workload CPUs */
export const kswapdCpu = (l: { nrCpus: number }) => l.nrCpus;
export const monitorCpu = (l: { nrCpus: number }) => l.nrCpus + 1;
export const HF_LOCKDEP = 1;
export const HF_HOLDTIME = 2;
export const HF_DEBUG = 4;

/* ---- global lines: one lock (words 0..3) + the data it guards ---- */
export const G_BKL = 0;
export const G_ZONE = 1; // zone->lock, watermarks, free counts (3 lines)
export const G_ZONE_AREA = 2; // free_area[order] list heads (line 2) + nr_free (line 3)
export const G_LRU = 4; // pagemap_lru_lock / zone->lru_lock + active/inactive lists
export const G_PAGECACHE = 5; // pagecache_lock (2.4)
export const G_SWAP = 6; // swap_lock + swap_info
export const G_MMLIST = 7; // mmlist_lock + init_mm.mmlist
export const G_MMALLOC = 8; // mm table free list
export const G_VMALLOC = 9; // VMA table free list
export const G_RMAPALLOC = 10; // rmap pool free list
export const G_KSWAPD = 11; // kswapd wait word, counters
export const G_FILES = 12; // inode allocation
export const G_COUNTER = 13; // lock_counter workload: test_lock_a + the counter (issue 17 lock-collapse bench)
export const G_WBQ = 14; // issue 18: the swap device's request queue (reclaim/writeback.ts; under swap_lock)
export const G_FREEABLE = 15; // issue 18: the clock policy's freeable queue (reclaim/freeable.ts; under the lru lock)
export const NR_GLOBAL_LINES = 16;

/* zone line (G_ZONE) data words */
export const Z_FREE = 4; // nr_free_pages
export const Z_MIN = 5;
export const Z_LOW = 6;
export const Z_HIGH = 7;
export const Z_MANAGED = 8; // frames the allocator manages
export const Z_FIRST_PFN = 9; // first pfn the buddy allocator manages
export const Z_COMPACT_CURSOR = 10; // next block compaction looks at (a hint: Atomics.add by any CPU)
/* G_ZONE_AREA: line 2 = free_area heads[0..10], line 3 = nr_free[0..10] */

/* LRU line (G_LRU) data words */
export const L_ACTIVE_HEAD = 4;
export const L_INACTIVE_HEAD = 5;
export const L_NR_ACTIVE = 6;
export const L_NR_INACTIVE = 7;
export const L_CLOCK_HAND = 8;
/* issue 7: the replacement policy's own words in the LRU line (reclaim/clockpro.ts, clockpro_approx.ts) */
export const L_NR_HOT = 9; // CLOCK-Pro: resident PG_hot pages (Atomics; lru.ts del_page_from_lru drops freed ones)
export const L_POLICY = 10; // words 10..15: policy state (cold / inactive target, hand-list choice, coupling)

/* swap line (G_SWAP) data words: swap_lock + swap_info_struct (reclaim/swapfile.ts) */
export const SW_FLAGS = 4; // SWP_OFF (1): swapoff disabled the area; 0 = in use (a zeroed line is an enabled area)
export const SW_CLUSTER_NEXT = 5; // next slot of the current 256-slot cluster
export const SW_CLUSTER_NR = 6; // slots left in the current cluster
export const SW_INUSE = 7; // slots with a non-zero count (Atomics)
export const SW_PAGES = 8; // usable slots (all but the header slot 0)
export const SW_FAIL_READ = 9; // tests: slot + 1 whose next read fails (0 none)
export const SW_FAIL_WRITE = 10; // tests: slot + 1 whose next write fails (0 none)
export const SW_LOWEST = 11; // lowest_bit: no free slot below it (hint)
export const SW_SWAPON_SEM = 12; // swapon_sem: 1 while a swapoff or swapon runs (Atomics claim; reclaim/swapoff.ts)

/* kswapd line (G_KSWAPD) data words (reclaim/kswapd.ts, reclaim/oom.ts) */
export const K_WAKE = 4; // 0 kswapd may sleep, 1 woken (Atomics.wait/notify)
export const K_IO_WAIT = 5; // never written: simulated I/O sleeps time out on it
export const K_OOM_VICTIM = 6; // mm + 1 of the OOM victim still exiting, 0 none
export const K_OOM_GEN = 7; // MM_GEN of that victim
export const K_SWAP_MM = 8; // swap_out's mm cursor + 1 (mmlist_lock)

/* swap device queue line (G_WBQ) data words (reclaim/writeback.ts): the ring of pages under write-out */
export const WB_HEAD = 4; // next ring entry to complete (swap_lock)
export const WB_TAIL = 5; // next free ring entry (swap_lock)
export const WB_SEQ = 6; // completions so far: wait_on_page_writeback sleeps on it (Atomics.add + notify)
export const WB_BUSY_F64 = 8; // words 8..9: Float64, when the device finishes its last queued request (ms; swap_lock)

/* freeable queue line (G_FREEABLE) data words (reclaim/freeable.ts) */
export const FQ_HEAD = 4; // next ring entry the allocator looks at (lru lock)
export const FQ_TAIL = 5; // next free ring entry (lru lock)
export const FQ_NR = 6; // pages with PG_freeable (Atomics)

/* free-list lines (G_MMALLOC, G_VMALLOC, G_RMAPALLOC, G_FILES) */
export const FL_HEAD = 4;
export const FL_NR_USED = 5;
export const FL_NEXT_ID = 6;

/* ---- struct page: 16 words = 64 bytes ---- */
export const PAGE_STRUCT_WORDS = 16;
export const PG_FLAGS = 0;
export const PG_COUNT = 1; // _count
export const PG_MAPCOUNT = 2; // _mapcount, -1 based as in the kernel
export const PG_MAPPING = 3; // 0 none; >0 inode id + 1; <0 anon object (see page.ts)
export const PG_INDEX = 4;
export const PG_PRIVATE = 5; // swap entry when PG_swapcache
export const PG_LRU_NEXT = 6; // LRU or buddy/pcp free-list links
export const PG_LRU_PREV = 7;
export const PG_RMAP = 8; // rmap scheme's per-page word (chain head, direct pte, node, hint)
export const PG_ORDER = 9; // buddy order of a free block / allocation order
export const PG_HASH_NEXT = 10; // page-cache hash chain; page tables: nr of present ptes
export const PG_PT_NR = 10;
export const PG_AGE = 11; // replacement-policy state (age, clockpro bits)
export const PG_LOCKWORD = 12; // PG_locked as a futex word (0, 1, 2 = locked+waiters)
export const PG_CHAINLOCK = 12; // (page-table pages: union) split ptl footprint at 12..15
export const PG_PTL = 12;
export const PG_AUX = 13; // data pages: spare lock/state word
export const PG_LAST_CPU = 14;
export const PG_SPARE = 15;

/* ---- mm_struct: 32 words (two lines: fields, then locks) ---- */
export const MM_WORDS = 32;
export const MM_PGD = 0; // pgd pfn; NIL = free slot
export const MM_USERS = 1;
export const MM_RSS = 2;
export const MM_MMAP = 3; // first VMA id (sorted list) or NIL
export const MM_MMAP_CACHE = 4; // last VMA found (hint; validated by range)
export const MM_MAP_COUNT = 5;
export const MM_ANONMM = 6; // anonmm: this mm's fork family id + 1 (rmap/anonmm.ts), 0 until its first anonymous page
export const MM_MMLIST_NEXT = 7;
export const MM_MMLIST_PREV = 8;
export const MM_SWAP_ADDRESS = 9;
export const MM_OWNER_CPU = 10;
export const MM_NR_PTES = 11;
export const MM_TOTAL_VM = 12;
export const MM_FREE_NEXT = 13;
export const MM_GEN = 14; // bumped on each reuse of the slot
export const MM_KILLED = 24; // signal that killed the task(s) of this mm: 0, SIGKILL (OOM), SIGBUS (reclaim/oom.ts)
export const MM_CPUMASK = 15; // mm_cpumask: CPUs that may hold translations of this mm (bit 31: cpu >= 31)
export const MM_MMAP_SEM = 16; // rwsem footprint (LOCK_WORDS)
export const MM_PAGE_TABLE_LOCK = 20; // spinlock footprint (LOCK_WORDS)
export const MM_START_BRK = 25; // heap start (exec's set_brk; vm/brk.ts), under mmap_sem
export const MM_BRK = 26; // current program break, under mmap_sem write
export const MM_ANON_NEXT = 27; // anonmm: next / previous mm of the same family (under the family's lock)
export const MM_ANON_PREV = 28;

/* ---- vm_area_struct: 16 words ---- */
export const VMA_WORDS = 16;
export const VMA_START = 0;
export const VMA_END = 1;
export const VMA_FLAGS = 2;
export const VMA_MM = 3;
export const VMA_FILE = 4; // inode id or NIL
export const VMA_PGOFF = 5;
export const VMA_ANON = 6; // anon_vma id or NIL
export const VMA_NEXT = 7;
export const VMA_PREV = 8;
export const VMA_I_MMAP_NEXT = 9;
export const VMA_I_MMAP_PREV = 10;
export const VMA_ANON_NEXT = 11;
export const VMA_ANON_PREV = 12;
export const VMA_FREE_NEXT = 13;

/* ---- inode + address_space: 16 words ---- */
export const INODE_WORDS = 16;
export const I_INO = 0;
export const I_SIZE = 1; // pages
export const I_NRPAGES = 2;
export const I_MMAP = 3; // first VMA on i_mmap, NIL if none
export const I_FLAGS = 4;
export const I_USERS = 5;
export const I_FREE_NEXT = 6;
export const I_GEN = 7; // generation of the slot: bumped by every inode_alloc (files.ts), folded into nonresident cookies
export const I_TREE_LOCK = 8; // mapping->tree_lock (split scheme)
export const I_MMAP_LOCK = 12; // i_shared_sem / i_mmap lock

/* the file store keeps, per file page, a written-back flag + the stamp words */
export const STAMP_WORDS = 4;
export const FS_WORDS = 1 + STAMP_WORDS;

/* ---- per-CPU area ---- */
export const MAX_LOCK_CLASSES = 32;
export const MAX_LOCK_SITES = 128;
export const LS_FIELDS = 12; // doubles per (class, read|write)
export const NR_VMSTAT_MAX = 128;
export const MCS_LEVELS = 8;
export const LOCKDEP_DEPTH = 16;
export const REFAULT_BUCKETS = 64;
export const PAGEVEC_SIZE = 15;
export const TRACE_ENTRY_F64 = 4; // ts, type, a, b
/* a TLB entry (mm/tlb.ts): mm + 1 (0 = invalid), virtual page number, the pte it caches */
export const TE_MM = 0;
export const TE_VPN = 1;
export const TE_PTE = 2;
export const TE_WORDS = 4;
export const TLB_WAYS = 4;

export const PC_ID = 0;
export const PC_STATE = 1; // 0 idle, 1 running, 2 stopped
export const PC_OPS = 2; // operations completed (low 31 bits)
export const PC_OPS_HI = 3;
export const PC_LOCKDEP_DEPTH = 4;
export const PC_LOCKDEP_VIOL = 5;
export const PC_TRACE_HEAD = 6;
export const PC_TRACE_LOST = 7;
export const PC_OP = 9; // the operation this CPU is in (cpu.ts OP_*): what a stuck-CPU report names
export const PC_NVCSW = 10; // sleeps so far (low 31 bits; owner writes, the orchestrator reads): the hung-task detector's progress besides PC_OPS
export const PC_RMAP_CACHE = 8; // one-deep per-CPU cache of a free rmap-pool object, id + 1 (2.5 local_pte_chain); 0 = empty
export const PC_TLB_SEQ = 16; // own line: odd while a user access is in flight
/* the rest of that line: the TLB shootdown mailbox (mm/tlb.ts) */
export const PC_TLB_PENDING = 17; // requests posted since the owner last drained (others Atomics.add, owner exchanges)
export const PC_TLB_FILL = 18; // owner only: round-robin victim counter
export const PC_TLB_ACK = 20; // owner only: a lock footprint (LK_LAST at +2) for lock_stat's shootdown-ack class
export const PC_TLB_MBOX = 24; // TLB_MBOX_SLOTS words: mm + 1 to flush, or TLB_FLUSH_ALL; 0 = free
export const TLB_MBOX_SLOTS = 8;
export const PC_PCP = 32; // own line: pcp free list
export const PCP_COUNT = 0;
export const PCP_HEAD = 1;
export const PCP_HIGH = 2;
export const PCP_BATCH = 3;
export const PCP_TAIL = 4; // the coldest page (the list_head sentinel's prev)
export const PC_PAGEVEC = 48; // own line: [0]=nr, [1..15] pfns
/* SLAB per-CPU array caches (mm/slab.ts): one line per object cache, [0] = avail, [1..AC_ENTRIES] = ids */
export const PC_SLAB_AC = 64;
export const AC_MM = 0;
export const AC_VMA = 1;
export const AC_INODE = 2;
export const AC_RMAP = 3;
export const NR_SLAB_AC = 4;
export const AC_AVAIL = 0;
export const AC_ENTRIES = LINE_WORDS - 1;
export const PC_MCS = PC_SLAB_AC + NR_SLAB_AC * LINE_WORDS; // MCS_LEVELS nodes, one line each: [0]=locked, [1]=next cpu-node
export const PC_LOCKDEP_STACK = PC_MCS + MCS_LEVELS * LINE_WORDS; // LOCKDEP_DEPTH x (class, site)
export const PC_VMSTAT = PC_LOCKDEP_STACK + 2 * LOCKDEP_DEPTH;
export const PC_REFAULT_HIST = PC_VMSTAT + NR_VMSTAT_MAX;
export const PC_F64 = PC_REFAULT_HIST + REFAULT_BUCKETS; // start of the Float64 part (even)
export const PC_LOCKSTAT_F64_WORDS = MAX_LOCK_CLASSES * 2 * LS_FIELDS * 2;
export const PC_SITES_F64_WORDS = MAX_LOCK_SITES * 2 * 2;
export const PC_FIXED_WORDS = PC_F64 + PC_LOCKSTAT_F64_WORDS + PC_SITES_F64_WORDS;

/*
 * issue 17: the conductor's region (timing/conductor.ts owns its meaning).
 * Two header lines, then one line per CPU slot: Int32 words VS_* (state, the
 * turn word the slot sleeps on, what it is parked on) and, in words 8..15,
 * three Float64 fields (the slot's virtual clock, its park deadline, when it
 * parked), all in virtual nanoseconds.
 */
export const VT_HDR_WORDS = 2 * LINE_WORDS;
export const VT_SLOT_WORDS = LINE_WORDS;
/*
 * After the slot lines, the release stamps (conductor.ts "release stamps"):
 * VT_STAMPS entries, direct-mapped by lock word: VT_STAMPS Int32 keys,
 * VT_STAMPS Int32 owners (the one CPU + 1 that has taken the lock, -1: more
 * than one), then two Float64 arrays of VT_STAMPS (the last write release,
 * the last read release, virtual ns).
 */
export const VT_STAMPS = 2048;
export const VT_STAMP_WORDS = VT_STAMPS * 6;
/*
 * issue 17: the coherence table (timing/coherence.ts owns its meaning): who
 * holds each struct page line and each global line, VT_LINE_WORDS words per
 * line: the last writer (slot + 1, 0: none) and a mask of read sharers. One
 * entry per frame (pfn), then one per global line (nrFrames + G_*), then one
 * per mm slot's field line (nrFrames + NR_GLOBAL_LINES + mm), then
 * VT_XFER_WORDS per CPU slot: its line transfers (Int32) and their virtual
 * ns (Float64 at the slot's words 2..3).
 */
export const VT_LINE_WORDS = 2;
export const VT_XFER_WORDS = 4;

/* lockdep region: class x class matrix of first-seen edge sites, + report */
export const LD_REPORT_WORDS = 16;
export const LD_NR_REPORTS = 0;
export const LD_FIRST_KIND = 1; // 1 = ABBA cycle, 2 = sleep-in-spin
export const LD_FIRST_A = 2;
export const LD_FIRST_B = 3;
export const LD_FIRST_SITE_AB = 4;
export const LD_FIRST_SITE_BA = 5;
export const LD_FIRST_CPU = 6;

export interface Layout {
  readonly nrCpus: number;
  readonly nrCpuSlots: number; // cpus + kswapd + monitor
  readonly nrFrames: number;
  readonly nrSwap: number;
  readonly header: number;
  readonly globals: number;
  readonly percpu: number;
  readonly percpuWords: number;
  readonly traceRing: number;
  readonly memMap: number;
  readonly mmTable: number;
  readonly maxMm: number;
  readonly vmaTable: number;
  readonly maxVma: number;
  readonly inodes: number;
  readonly maxFiles: number;
  readonly filePages: number;
  readonly pcHash: number;
  readonly pcHashMask: number;
  readonly fileStore: number;
  /** issue 18: the shmem inodes' swap-entry index (reclaim/shmem.ts), filePages words per inode slot */
  readonly shmemSwp: number;
  readonly rmapPool: number;
  readonly rmapEntries: number;
  readonly rmapEntryWords: number;
  readonly swapMap: number;
  /** issue 18: the swap device ring (reclaim/writeback.ts): wbqSize pfns, then wbqSize Float64 completion times */
  readonly wbq: number;
  readonly wbqSize: number;
  /** issue 18: the freeable queue's ring (reclaim/freeable.ts): wbqSize pfns */
  readonly freeq: number;
  readonly nonres: number;
  readonly nrBuckets: number;
  readonly bucketWords: number;
  readonly lockdep: number;
  readonly frames: number;
  readonly swapSlots: number;
  /** the per-CPU TLB (mm/tlb.ts): its offset inside each per-CPU area, ways, sets */
  readonly tlb: number;
  readonly tlbWays: number;
  readonly tlbSets: number;
  /** issue 17: the conductor's region (timing/conductor.ts): VT_HDR_WORDS + one line per CPU slot */
  readonly vt: number;
  /** issue 17: the coherence table (timing/coherence.ts): VT_LINE_WORDS per frame, then per global line */
  readonly vtLines: number;
  readonly totalWords: number;
}

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;
const pow2AtLeast = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/** Words per rmap-pool object for a scheme (0: the scheme needs no pool). */
export function rmapEntryWords(scheme: Config['rmap']): number {
  switch (scheme) {
    case 'vmnode':
      return 4; // vm_node {pte, vma, next, prev}
    case 'ptechain25':
      return LINE_WORDS; // pte_chain {next_and_idx, ptes[NRPTE]}: one cache line
    case 'objrmap':
      return 8; // anon_vma {lock(4), head, refcount, ...}
    case 'anonmm':
      return 8; // anonmm {lock(4), head mm, nr mms, free link, -}
    default:
      return 0;
  }
}

/** Compute every region's offset from the config, once. */
export function computeLayout(cfg: Config): Layout {
  const nrFrames = Math.floor(cfg.mem / PAGE_SIZE); // not >>>: 4 GiB would wrap to 0
  const nrSwap = Math.floor(cfg.swap / PAGE_SIZE);
  const nrCpus = cfg.cpus;
  const nrCpuSlots = nrCpus + 2; // + kswapd + the monitor (main thread: checker, setup)
  let o = 0;
  const header = o;
  o += HDR_WORDS;
  const globals = o;
  o += NR_GLOBAL_LINES * LINE_WORDS;
  const traceRing = cfg.traceRing;
  const tlb = PC_FIXED_WORDS + 2 * TRACE_ENTRY_F64 * traceRing;
  const tlbWays = Math.min(TLB_WAYS, cfg.tlbEntries);
  const percpuWords = alignUp(tlb + cfg.tlbEntries * TE_WORDS, LINE_WORDS);
  const percpu = o;
  o += percpuWords * nrCpuSlots;
  const memMap = o;
  o += nrFrames * PAGE_STRUCT_WORDS;
  const mmTable = o;
  o += cfg.maxMm * MM_WORDS;
  const vmaTable = o;
  o += cfg.maxVma * VMA_WORDS;
  const inodes = o;
  o += cfg.maxFiles * INODE_WORDS;
  const pcHashSize = pow2AtLeast(Math.max(64, nrFrames >>> 1));
  const pcHash = o;
  o += pcHashSize;
  o = alignUp(o, LINE_WORDS);
  const fileStore = o;
  o += cfg.maxFiles * cfg.filePages * FS_WORDS;
  o = alignUp(o, LINE_WORDS);
  const shmemSwp = o;
  o += cfg.maxFiles * cfg.filePages;
  o = alignUp(o, LINE_WORDS);
  const rmapEntryW = rmapEntryWords(cfg.rmap);
  const rmapEntries = rmapEntryW ? cfg.rmapPool : 0;
  const rmapPool = o;
  o += rmapEntries * rmapEntryW;
  const swapMap = o;
  o += nrSwap;
  o = alignUp(o, LINE_WORDS * 2);
  // a page is in flight at most once: a ring of nrFrames entries never overflows
  const wbqSize = pow2AtLeast(nrFrames);
  const wbq = o;
  o += wbqSize * 3;
  const freeq = o;
  o += wbqSize;
  o = alignUp(o, LINE_WORDS * 2);
  const bucketWords = cfg.nrBucketBytes >>> 2;
  // alloc_large_system_hash rounds up: pages / (words per bucket), power of two
  const nrBuckets = pow2AtLeast(Math.max(1, Math.ceil(nrFrames / bucketWords)));
  const nonres = o;
  o += nrBuckets * bucketWords;
  const lockdep = o;
  o += MAX_LOCK_CLASSES * MAX_LOCK_CLASSES + LD_REPORT_WORDS;
  o = alignUp(o, LINE_WORDS);
  const vt = o;
  o += VT_HDR_WORDS + nrCpuSlots * VT_SLOT_WORDS + VT_STAMP_WORDS;
  const vtLines = o;
  o += (nrFrames + NR_GLOBAL_LINES + cfg.maxMm) * VT_LINE_WORDS + nrCpuSlots * VT_XFER_WORDS;
  o = alignUp(o, PAGE_WORDS);
  const frames = o;
  o += nrFrames * PAGE_WORDS;
  const swapSlots = o;
  o += nrSwap * PAGE_WORDS;
  return {
    nrCpus,
    nrCpuSlots,
    nrFrames,
    nrSwap,
    header,
    globals,
    percpu,
    percpuWords,
    traceRing,
    memMap,
    mmTable,
    maxMm: cfg.maxMm,
    vmaTable,
    maxVma: cfg.maxVma,
    inodes,
    maxFiles: cfg.maxFiles,
    filePages: cfg.filePages,
    pcHash,
    pcHashMask: pcHashSize - 1,
    fileStore,
    shmemSwp,
    rmapPool,
    rmapEntries,
    rmapEntryWords: rmapEntryW,
    swapMap,
    wbq,
    wbqSize,
    freeq,
    nonres,
    nrBuckets,
    bucketWords,
    lockdep,
    frames,
    swapSlots,
    tlb,
    tlbWays,
    tlbSets: cfg.tlbEntries / tlbWays,
    vt,
    vtLines,
    totalWords: o,
  };
}

/** Write the config words into a fresh header (the Machine reads them back in any thread). */
export function writeHeader(w: Int32Array, cfg: Config, l: Layout): void {
  w[H_MAGIC] = MAGIC;
  w[H_VERSION] = LAYOUT_VERSION;
  w[H_NR_CPUS] = l.nrCpus;
  w[H_NR_SLOTS_CPU] = l.nrCpuSlots;
  w[H_NR_FRAMES] = l.nrFrames;
  w[H_NR_SWAP] = l.nrSwap;
  w[H_RMAP] = RMAP_SCHEMES.indexOf(cfg.rmap);
  w[H_LOCKS] = LOCK_SCHEMES.indexOf(cfg.locks);
  w[H_LOCK_IMPL] = LOCK_IMPLS.indexOf(cfg.lockImpl);
  w[H_POLICY] = POLICIES.indexOf(cfg.policy);
  w[H_FLAGS] = (cfg.lockdep ? HF_LOCKDEP : 0) | (cfg.holdTime ? HF_HOLDTIME : 0) | (cfg.debug ? HF_DEBUG : 0);
  w[H_SEED] = cfg.seed;
}

/* ---- address helpers used everywhere (pure arithmetic on layout) ---- */
export const globalLine = (l: Layout, g: number) => l.globals + g * LINE_WORDS;
export const pageStruct = (l: Layout, pfn: number) => l.memMap + pfn * PAGE_STRUCT_WORDS;
export const frameBase = (l: Layout, pfn: number) => l.frames + pfn * PAGE_WORDS;
export const mmBase = (l: Layout, mm: number) => l.mmTable + mm * MM_WORDS;
export const vmaBase = (l: Layout, v: number) => l.vmaTable + v * VMA_WORDS;
export const inodeBase = (l: Layout, i: number) => l.inodes + i * INODE_WORDS;
export const percpuBase = (l: Layout, cpu: number) => l.percpu + cpu * l.percpuWords;
/** Word offset of shmem inode `ino`'s swap entry for page `index` (shmem_swp_entry). */
export const shmemSwpEntry = (l: Layout, ino: number, index: number) => l.shmemSwp + ino * l.filePages + index;
export const swapSlotBase = (l: Layout, slot: number) => l.swapSlots + slot * PAGE_WORDS;
