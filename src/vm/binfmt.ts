/*
 * binfmt.ts — loading a program image into a fresh mm (the part of 2.4
 * fs/binfmt_elf.c load_elf_binary that shapes the address space), and
 * execve = exec_mmap (vm/fork.ts do_exec) + this.
 *
 * An image is a file: `textPages` pages of text, then `dataPages` of
 * initialised data. It is mapped the way an i386 ELF executable is:
 *
 *   0x08048000  text   file pages [0, textPages), MAP_PRIVATE, read-only
 *   next page   data   file pages [textPages, +dataPages), MAP_PRIVATE, read/write
 *   after data  bss    anonymous, read/write (bssPages)
 *   after bss   heap   empty: start_brk = brk = end of bss (set_brk)
 *   below 3 GiB stack  anonymous, read/write (stackPages), ending at TASK_SIZE
 *
 * Nothing is faulted in here: the first instructions fault the text, data,
 * bss and stack pages in, as a real exec does (the exec workload touches a
 * few of each).
 *
 * Locking: the new mm has one user and is not yet visible to anyone, but
 * every mmap still takes its mmap_sem (do_mmap), as the kernel does.
 */
import { NIL, PAGE_SIZE } from '../machine/layout.js';
import { TASK_SIZE } from '../mm/pte.js';
import { do_mmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED } from './mmap.js';
import { do_exec, mmput } from './fork.js';
import { set_brk } from './brk.js';
import type { Cpu } from './cpu.js';

export const ELF_TEXT_BASE = 0x08048000;

/** A program image: plain data (crosses into workers). */
export interface Image {
  /** the executable file's inode */
  ino: number;
  textPages: number;
  dataPages: number;
  bssPages: number;
  stackPages: number;
}

/** Where each part of an image lands (addresses, bytes). */
export interface ImageLayout {
  text: number;
  data: number;
  bss: number;
  brk: number;
  stack: number;
}

export function imageLayout(img: Image): ImageLayout {
  const text = ELF_TEXT_BASE;
  const data = text + img.textPages * PAGE_SIZE;
  const bss = data + img.dataPages * PAGE_SIZE;
  const brk = bss + img.bssPages * PAGE_SIZE;
  return { text, data, bss, brk, stack: TASK_SIZE - img.stackPages * PAGE_SIZE };
}

/** Map img into the fresh mm; 0, or a negative errno (the mm is left partly built for the caller to drop). */
export function load_image(cpu: Cpu, mm: number, img: Image): number {
  const at = imageLayout(img);
  const FIX = MAP_PRIVATE | MAP_FIXED;
  const RW = PROT_READ | PROT_WRITE;
  const parts: [number, number, number, number, number, number][] = [
    [at.text, img.textPages, PROT_READ, FIX, img.ino, 0],
    [at.data, img.dataPages, RW, FIX, img.ino, img.textPages],
    [at.bss, img.bssPages, RW, FIX | MAP_ANONYMOUS, -1, 0],
    [at.stack, img.stackPages, RW, FIX | MAP_ANONYMOUS, -1, 0],
  ];
  for (const [addr, pages, prot, flags, file, pgoff] of parts) {
    if (pages === 0) continue;
    const r = do_mmap(cpu, mm, addr, pages * PAGE_SIZE, prot, flags, file, pgoff);
    if (r < 0) return r;
  }
  set_brk(cpu, mm, at.brk);
  return 0;
}

/** execve: replace old's address space with a fresh one holding img; the new mm, or NIL (out of memory: the task dies). */
export function do_execve(cpu: Cpu, old: number, img: Image): number {
  const mm = do_exec(cpu, old);
  if (mm === NIL) return NIL;
  if (load_image(cpu, mm, img) < 0) {
    mmput(cpu, mm);
    return NIL;
  }
  return mm;
}
