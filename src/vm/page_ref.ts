/*
 * page_ref.ts — the VM layer's view of page references and the ZERO_PAGE.
 *
 * A page's _count is its number of holders: one per mapping pte, one for the
 * page (or swap) cache, one per transient pin (a fault between dropping and
 * retaking the pte lock). get_page/put_page are the allocator's
 * (mm/page_alloc.ts); put_page frees the page when the last holder goes.
 *
 * ZERO_PAGE is pfn 0, reserved by mem_init and never freed (put_page ignores
 * reserved pages): read faults on anonymous memory map it read-only (2.4
 * do_anonymous_page), so a pte value of 0 still means "none".
 */
export { get_page, put_page, page_count } from '../mm/page_alloc.js';
export const ZERO_PFN = 0;
