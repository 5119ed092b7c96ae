/*
 * ACPI fixed power-management hardware (ACPI 6.5 section 4.8.3): PM1a
 * event block (status, enable), PM1a control block and the PM timer, at
 * fixed ports with the SCI on ISA IRQ 9.
 *
 * Fixed ports rather than a PIIX4-style PCI function: the FADT names the
 * blocks, so an OS needs nothing else; a directly loaded kernel finds them
 * decoding without firmware having programmed a base register; and SeaBIOS,
 * seeing no 82371AB function, does not try the PIIX4 SMM set-up this
 * machine has no SMM for.
 *
 * - Status bits are write-one-to-clear.  The SCI is a level: asserted while
 *   SCI_EN is set and some status bit is set with its enable bit.
 * - The timer counts at 3.579545 MHz of virtual time (so it repeats under
 *   -clock virtual), 24 bits wide (FADT TMR_VAL_EXT clear); TMR_STS is set
 *   whenever bit 23 changes (4.8.3.3).
 * - The FADT has SMI_CMD = 0: the system is always in ACPI mode, SCI_EN
 *   reads 1 and cannot be cleared (4.8.2.1, 5.2.9).
 * - SLP_EN with the \_S5 type turns the machine off; any other type is a
 *   sleep state the machine does not have, from which it wakes at once
 *   (WAK_STS set), so an OS waiting for the wake is not stuck.
 *
 * Registers may be read or written in bytes, words or dwords at any
 * offset of the block; each byte lands in its register.
 */
#include "pm.h"

#include "mmu/mmu.h"

/* Bits of PM1_STS that are events (can cause an SCI) or WAK_STS. */
#define STS_BITS (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_WAK_STS)
#define EN_BITS (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)
#define CNT_RW_BITS (PM1_BM_RLD | PM1_SLP_TYP_MASK)

static u64 timer_ticks(u64 now)
{
    return (u64)((unsigned __int128)now * PM_TIMER_HZ / 1000000000u);
}

/* The first ns at which `ticks` timer ticks have elapsed. */
static u64 ticks_time(u64 ticks)
{
    unsigned __int128 ns = ((unsigned __int128)ticks * 1000000000u + PM_TIMER_HZ - 1) /
                           PM_TIMER_HZ;
    return ns > (unsigned __int128)(TIME_NEVER - 1) ? TIME_NEVER : (u64)ns;
}

u32 pm_timer(u64 now)
{
    return (u32)(timer_ticks(now) & 0xFFFFFFu);
}

static void update_sci(struct pm *p)
{
    bool level = (p->cnt & PM1_SCI_EN) && (p->sts & p->en & EN_BITS);
    if (level != p->sci) {
        p->sci = level;
        irq_set(&p->irq, PM_SCI_IRQ, level);
    }
}

u64 pm_update(struct pm *p, u64 now)
{
    u64 half = timer_ticks(now) >> 23;
    if (half != p->tmr_half) {
        p->tmr_half = half;
        p->sts |= PM1_TMR;
    }
    update_sci(p);
    if (!(p->en & PM1_TMR))
        return TIME_NEVER;
    return ticks_time((half + 1) << 23);
}

void pm_power_button(struct pm *p)
{
    p->sts |= PM1_PWRBTN;
    update_sci(p);
}

/* Byte `off` of the block, as read. */
static u8 read_byte(struct pm *p, unsigned off, u32 tmr)
{
    switch (off) {
    case 0: case 1: return (u8)(p->sts >> 8 * off);
    case 2: case 3: return (u8)(p->en >> 8 * (off - 2));
    case 4: case 5: return (u8)(p->cnt >> 8 * (off - 4));
    case 8: case 9: case 10: case 11: return (u8)(tmr >> 8 * (off - 8));
    default: return 0; /* reserved bytes 6-7 */
    }
}

static u32 pm_read(void *opaque, u16 port, unsigned size)
{
    struct pm *p = opaque;
    u64 now = clock_now(&p->clock);
    pm_update(p, now);
    u32 tmr = pm_timer(now), v = 0;
    for (unsigned k = 0; k < size; k++) {
        unsigned off = (unsigned)(port - PM_BASE) + k;
        u8 b = off < PM_LEN ? read_byte(p, off, tmr) : 0xFF;
        v |= (u32)b << 8 * k;
    }
    return v;
}

/* SLP_EN was written: enter the sleep state SLP_TYP names. */
static void sleep_enter(struct pm *p)
{
    unsigned typ = (p->cnt & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT;
    if (typ == PM_SLP_TYP_S5 && p->power_off) {
        p->power_off(p->opaque);
        return;
    }
    p->sts |= PM1_WAK_STS;
}

static void pm_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pm *p = opaque;
    u64 now = clock_now(&p->clock);
    pm_update(p, now);
    u16 clear = 0, en = p->en, cnt = p->cnt;
    bool slp_en = false;
    for (unsigned k = 0; k < size; k++) {
        unsigned off = (unsigned)(port - PM_BASE) + k;
        u16 b = (u16)(val >> 8 * k & 0xFF), shift = (u16)(8 * (off & 1));
        u16 mask = (u16)(0xFF << shift);
        b = (u16)(b << shift);
        if (off < 2) {
            clear |= b;
        } else if (off < 4) {
            en = (u16)((en & ~mask) | (b & mask));
        } else if (off < 6) {
            cnt = (u16)((cnt & ~(mask & CNT_RW_BITS)) | (b & mask & CNT_RW_BITS));
            slp_en |= (b & mask & PM1_SLP_EN) != 0;
        }
        /* The timer is read-only; bytes 6-7 and beyond are reserved. */
    }
    bool timer_armed = !(p->en & PM1_TMR) && (en & PM1_TMR);
    p->sts &= (u16)~(clear & STS_BITS);
    p->en = en & EN_BITS;
    p->cnt = cnt | PM1_SCI_EN;
    update_sci(p);
    if (slp_en)
        sleep_enter(p);
    if (timer_armed && p->kick)
        p->kick(p->opaque);
}

static const struct io_ops pm_ops = { pm_read, pm_write };

void pm_reset(struct pm *p)
{
    p->sts = 0;
    p->en = 0;
    p->cnt = PM1_SCI_EN;
    update_sci(p);
}

void pm_init(struct pm *p, struct irq_sink irq, struct clock clock,
             void (*power_off)(void *opaque), void (*kick)(void *opaque), void *opaque)
{
    p->irq = irq;
    p->clock = clock;
    p->power_off = power_off;
    p->kick = kick;
    p->opaque = opaque;
    p->sci = false;
    p->tmr_half = timer_ticks(clock_now(&clock)) >> 23;
    pm_reset(p);
}

int pm_map(struct pm *p, struct mmu *m)
{
    return mmu_map_io(m, PM_BASE, PM_LEN, &pm_ops, p);
}
