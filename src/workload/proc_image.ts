/*
 * proc_image.ts — a simulated process with an executable image, for the
 * fork/exec workloads: the images (the parent's `lat_proc`, exec's
 * `hello`), loading one into an mm and faulting its pages in the way a
 * starting program does, and the content oracle's view of those pages.
 *
 * Every page the process writes gets a stamp whose version is remembered
 * (by virtual page) in a CPU-local map; a read checks the stamp, or, for a
 * page never written, zeros (anonymous) or the executable's contents
 * (text, data). A forked child sees its parent's stamps until it writes
 * its own (copy on write), which is checked too.
 *
 * CPU-local state; the maps are allocated at create(), not per operation.
 */
import { PAGE_SIZE, PAGE_SHIFT } from '../machine/layout.js';
import { VM } from '../machine/vmstat.js';
import { user_access, ACCESS_OK } from '../vm/access.js';
import { imageLayout, type Image, type ImageLayout } from '../vm/binfmt.js';
import { makeStamp, checkRead, nextVersion, ORACLE_WORDS, type Oracle } from './oracle.js';
import type { Cpu } from '../vm/cpu.js';

/** The small program lmbench's lat_proc is: 64 KiB of text, 16 KiB data, 16 KiB bss, 32 KiB stack (no shared libraries). */
export const LAT_PROC_IMAGE = { textPages: 16, dataPages: 4, bssPages: 4, stackPages: 8 } as const;
/** lat_proc exec's `hello`: 16 KiB text, one page each of data and bss, 8 KiB stack. */
export const HELLO_IMAGE = { textPages: 4, dataPages: 1, bssPages: 1, stackPages: 2 } as const;

export type ImageShape = Omit<Image, 'ino'>;
export const imagePages = (s: ImageShape) => s.textPages + s.dataPages;

/** What one process's pages should hold: private page → stamp version (absent: never written). */
export interface ProcView {
  cpu: Cpu;
  oracle: Oracle;
  img: Image;
  at: ImageLayout;
  written: Map<number, number>;
  /** a forked child: its parent's stamps, for the pages it has not written yet */
  inherited: Map<number, number> | null;
  buf: Int32Array;
  name: string;
}

export function newView(cpu: Cpu, oracle: Oracle, img: Image, name: string): ProcView {
  return { cpu, oracle, img, at: imageLayout(img), written: new Map(), inherited: null, buf: new Int32Array(ORACLE_WORDS), name };
}

/** Write a fresh stamp to the page at addr in mm (a private page of the view's process). */
export function writePage(v: ProcView, mm: number, addr: number): void {
  const ver = nextVersion(v.oracle);
  makeStamp(v.oracle, v.buf, addr >>> PAGE_SHIFT, ver);
  const r = user_access(v.cpu, mm, addr, true, v.buf, 4);
  if (r !== ACCESS_OK) throw new Error(`${v.name}: write at 0x${addr.toString(16)} failed (${r}) on cpu ${v.cpu.id}`);
  v.written.set(addr >>> PAGE_SHIFT, ver);
}

/** Read the page at addr in mm and check it against what the view expects there. */
export function checkPage(v: ProcView, mm: number, addr: number): void {
  const r = user_access(v.cpu, mm, addr, false, v.buf, ORACLE_WORDS);
  if (r !== ACCESS_OK) throw new Error(`${v.name}: read at 0x${addr.toString(16)} failed (${r}) on cpu ${v.cpu.id}`);
  const vpage = addr >>> PAGE_SHIFT;
  const inImage = addr >= v.at.text && addr < v.at.bss;
  const index = (addr - v.at.text) >>> PAGE_SHIFT;
  const want = v.written.get(vpage) ?? v.inherited?.get(vpage) ?? 0;
  if (!checkRead(v.oracle, v.buf, want, vpage, inImage ? v.img.ino : -1, inImage ? index : 0, inImage, `${v.name} cpu ${v.cpu.id} 0x${addr.toString(16)}`)) {
    v.cpu.w[v.cpu.vm + VM.oracle_fail]!++;
  }
}

/**
 * A program starting: it reads its text, writes its data, bss and the top
 * `stackTouch` stack pages.
 */
export function startProgram(v: ProcView, mm: number, textTouch: number, stackTouch: number): void {
  const { img, at } = v;
  for (let i = 0; i < Math.min(textTouch, img.textPages); i++) checkPage(v, mm, at.text + i * PAGE_SIZE);
  for (let i = 0; i < img.dataPages; i++) writePage(v, mm, at.data + i * PAGE_SIZE);
  for (let i = 0; i < img.bssPages; i++) writePage(v, mm, at.bss + i * PAGE_SIZE);
  for (let i = 1; i <= Math.min(stackTouch, img.stackPages); i++) writePage(v, mm, at.stack + (img.stackPages - i) * PAGE_SIZE);
}
