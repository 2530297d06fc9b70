/*
 * filemap_fault.ts — filemap_nopage: the page-cache side of a file fault.
 *
 * Look the page up in the page cache (find_get_page, reference taken); on a
 * miss allocate a page, read it from the file store (a major fault), and
 * insert it (add_to_page_cache). A CPU that loses the insert race to another
 * frees its copy and uses the winner's. 2.4 mm/filemap.c. A shmem inode's
 * page may be in swap, recorded in the inode's index: shmem_getpage
 * (reclaim/shmem_swap.ts, 2.4 shmem_nopage) finds it there or zero-fills.
 *
 * Returns the pfn (minor), -(pfn + 16) when it was read from the store
 * (major), VM_FAULT_SIGBUS past the end of the file, VM_FAULT_OOM.
 * Locking: none held on entry; the page cache takes its own lock.
 */
import { I_SIZE, I_FLAGS, inodeBase } from '../machine/layout.js';
import { mappingOfInode } from '../machine/page.js';
import { SITE } from '../sync/classes.js';
import { find_get_page, add_to_page_cache } from '../mm/filemap.js';
import { read_file_page_into, I_SHMEM } from '../mm/files.js';
import { put_page, mark_page_accessed, lru_cache_add_file } from '../reclaim/lru.js';
import { alloc_page_vma } from '../reclaim/alloc.js';
import { shmem_getpage } from '../reclaim/shmem_swap.js';
import type { Cpu } from './cpu.js';

const VM_FAULT_OOM = -2;
const VM_FAULT_SIGBUS = -3;

export function filemap_nopage(cpu: Cpu, ino: number, index: number, mm = -1): number {
  const w = cpu.w;
  const ib = inodeBase(cpu.l, ino);
  if (index < 0 || index >= w[ib + I_SIZE]!) return VM_FAULT_SIGBUS;
  const mapping = mappingOfInode(ino);
  if ((w[ib + I_FLAGS]! & I_SHMEM) !== 0) return shmem_getpage(cpu, ino, index, mm);
  for (;;) {
    let pfn = find_get_page(cpu, mapping, index);
    if (pfn >= 0) {
      mark_page_accessed(cpu, pfn); // a page-cache hit
      return pfn;
    }
    pfn = alloc_page_vma(cpu, mm, SITE.do_file_page);
    if (pfn < 0) return VM_FAULT_OOM;
    read_file_page_into(cpu, ino, index, pfn);
    if (add_to_page_cache(cpu, pfn, mapping, index)) {
      lru_cache_add_file(cpu, pfn);
      return -(pfn + 16);
    }
    put_page(cpu, pfn); // lost the race: somebody else's copy is in the cache now
  }
}
