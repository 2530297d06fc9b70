/*
 * pte.ts — i386 (non-PAE) page-table entry encoding.
 *
 * 32-bit entries, pfn in bits 12..31, flag bits as include/asm-i386/pgtable.h:
 *   _PAGE_PRESENT 0x001  _PAGE_RW 0x002  _PAGE_USER 0x004
 *   _PAGE_ACCESSED 0x020 _PAGE_DIRTY 0x040
 * A non-present, non-zero pte holds a swap entry (2.4 SWP_ENTRY):
 *   type = (val >> 1) & 0x3f, offset = val >> 8, present bit clear.
 * The pgd's entries (the folded pmd) point at pte tables with the same layout.
 *
 * A "pte address" is a plain int: ptPfn << 10 | slot; the pte's word in the
 * machine is l.frames + pteAddr. Values are Int32: decode with >>> so a pfn
 * with bit 19 set (>= 2 GiB) reads unsigned.
 */
export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
export const PTE_FLAGS_MASK = 0xfff;

export const pte_none = (pte: number) => pte === 0;
export const pte_present = (pte: number) => (pte & _PAGE_PRESENT) !== 0;
export const pte_write = (pte: number) => (pte & _PAGE_RW) !== 0;
export const pte_young = (pte: number) => (pte & _PAGE_ACCESSED) !== 0;
export const pte_dirty = (pte: number) => (pte & _PAGE_DIRTY) !== 0;
export const pte_pfn = (pte: number) => pte >>> 12;
export const mk_pte = (pfn: number, prot: number) => (pfn << 12) | prot;
export const pte_wrprotect = (pte: number) => pte & ~_PAGE_RW;

/** A swap pte: not present, not none. */
export const is_swap_pte = (pte: number) => pte !== 0 && (pte & _PAGE_PRESENT) === 0;
export const SWP_ENTRY = (type: number, offset: number) => (type << 1) | (offset << 8);
export const SWP_TYPE = (e: number) => (e >>> 1) & 0x3f;
export const SWP_OFFSET = (e: number) => e >>> 8;
export const MAX_SWAP_OFFSET = 1 << 24;

/* address decomposition: pgd index (10 bits), pte index (10 bits), offset (12 bits) */
export const pgd_index = (addr: number) => addr >>> 22;
export const pte_index = (addr: number) => (addr >>> 12) & 0x3ff;
export const PMD_SIZE = 1 << 22; // one pte table maps 4 MiB
export const pteAddrOf = (ptPfn: number, slot: number) => (ptPfn << 10) | slot;
export const ptPfnOfPteAddr = (pteAddr: number) => pteAddr >>> 10;
export const slotOfPteAddr = (pteAddr: number) => pteAddr & 0x3ff;

/* the 3G/1G split: user addresses below TASK_SIZE */
export const TASK_SIZE = 0xc0000000;
export const TASK_UNMAPPED_BASE = 0x40000000;
