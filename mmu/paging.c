/*
 * 32-bit two-level guest page walk (Intel SDM vol. 3A, 4.3, 4.6, 4.8).
 *
 * Access rights combine the PDE and PTE: a page is user-accessible only if
 * both have U/S set, writable only if both have R/W set.  Supervisor writes
 * ignore R/W unless CR0.WP is set.  Accessed bits are set on both levels by
 * every successful walk; Dirty on the final level for writes.
 */
#include "paging.h"

#include "mmu.h"

void pg_set_mode(struct pg_state *pg, u32 cr0, u32 cr3, u32 cr4)
{
    pg->enabled = (cr0 & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE);
    pg->wp = cr0 & CR0_WP;
    pg->pse = cr4 & CR4_PSE;
    pg->cr3 = cr3;
}

static int fault(struct mmu_fault *f, u32 lin, int acc, bool user, bool present)
{
    f->lin = lin;
    f->err = (present ? PF_P : 0) | (acc == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0);
    return -1;
}

static bool allowed(const struct pg_state *pg, u32 perm, int acc, bool user)
{
    if (user && !(perm & PG_PERM_USER))
        return false;
    if (acc == ACC_WRITE && !(perm & PG_PERM_WRITE) && (user || pg->wp))
        return false;
    return true;
}

bool pg_perm_allows_all(const struct pg_state *pg, u32 perm, int acc)
{
    return allowed(pg, perm, acc, true) && allowed(pg, perm, acc, false);
}

int pg_walk(const struct pg_state *pg, struct mmu *m, u32 lin, int acc, bool user, u32 *gpa,
            u32 *perm, struct mmu_fault *f)
{
    u32 pde_addr = (pg->cr3 & PAGE_MASK) + ((lin >> 22) << 2);
    u32 pde = (u32)mmu_phys_read(m, pde_addr, 4);
    if (!(pde & PTE_P))
        return fault(f, lin, acc, user, false);
    bool big = (pde & PTE_PS) && pg->pse;
    u32 p = (pde & PTE_US ? PG_PERM_USER : 0) | (pde & PTE_RW ? PG_PERM_WRITE : 0);
    if (big) {
        if (!allowed(pg, p, acc, user))
            return fault(f, lin, acc, user, true);
        u32 npde = pde | PTE_A | (acc == ACC_WRITE ? PTE_D : 0);
        if (npde != pde)
            mmu_phys_write(m, pde_addr, npde, 4);
        *gpa = (pde & 0xffc00000u) | (lin & 0x3fffffu);
        *perm = p | (npde & PTE_D ? PG_PERM_DIRTY : 0);
        return 0;
    }
    u32 pte_addr = (pde & PAGE_MASK) + (((lin >> 12) & 0x3ff) << 2);
    u32 pte = (u32)mmu_phys_read(m, pte_addr, 4);
    if (!(pte & PTE_P))
        return fault(f, lin, acc, user, false);
    p &= (pte & PTE_US ? PG_PERM_USER : 0) | (pte & PTE_RW ? PG_PERM_WRITE : 0);
    if (!allowed(pg, p, acc, user))
        return fault(f, lin, acc, user, true);
    if (!(pde & PTE_A))
        mmu_phys_write(m, pde_addr, pde | PTE_A, 4);
    u32 npte = pte | PTE_A | (acc == ACC_WRITE ? PTE_D : 0);
    if (npte != pte)
        mmu_phys_write(m, pte_addr, npte, 4);
    *gpa = (pte & PAGE_MASK) | (lin & (PAGE_SIZE - 1));
    *perm = p | (npte & PTE_D ? PG_PERM_DIRTY : 0);
    return 0;
}
