/*
 * Motorola MC146818A real-time clock with 114 bytes of CMOS RAM, as on the
 * PC/AT: index port 0x70 (bit 7 masks NMI), data port 0x71, interrupt on
 * ISA IRQ8.  Follows the MC146818A datasheet: time and date registers 0-9
 * in BCD or binary (register B DM) and 12- or 24-hour form (B 24/12),
 * register A (UIP, divider, periodic rate), B (SET, PIE, AIE, UIE, SQWE,
 * DM, 24/12, DSE), C (IRQF, PF, AF, UF; cleared by reading), D (VRT).
 *
 * Time is derived, not ticked: the clock reads origin_sec plus the whole
 * seconds of virtual time since origin_ns (origin_ns is where an RTC second
 * starts).  UIP is set during the last 244 us before each update.  The
 * update-ended and alarm flags are evaluated for every second boundary
 * passed since the previous rtc_update(); the periodic flag for every
 * period of register A's rate, phase-locked to origin_ns.  While SET is on
 * the clock is frozen; clearing SET restarts the second at that instant,
 * with the time written in registers 0-9.  Daylight-saving (DSE) is stored
 * but not applied.
 *
 * The memory-size bytes follow the IBM PC/AT and what SeaBIOS reads.
 */
#include "rtc.h"

#include <string.h>

#include "mmu/mmu.h"

#define NS_PER_SEC 1000000000ull
#define UIP_NS 244000u

enum {
    RTC_SEC = 0, RTC_SEC_ALARM = 1, RTC_MIN = 2, RTC_MIN_ALARM = 3, RTC_HOUR = 4,
    RTC_HOUR_ALARM = 5, RTC_WDAY = 6, RTC_MDAY = 7, RTC_MONTH = 8, RTC_YEAR = 9,
    RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
    CMOS_CENTURY = 0x32,
};

/*  Register A:  7 UIP | 6-4 DV divider | 3-0 RS rate
 *  Register B:  7 SET | 6 PIE | 5 AIE | 4 UIE | 3 SQWE | 2 DM | 1 24/12 | 0 DSE
 *  Register C:  7 IRQF | 6 PF | 5 AF | 4 UF                                    */
#define REG_A_UIP 0x80
#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_AIE 0x20
#define REG_B_UIE 0x10
#define REG_B_DM 0x04
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_AF 0x20
#define REG_C_UF 0x10

/* ---- civil calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static i64 days_from_civil(i64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    i64 era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (i64)doe - 719468;
}

struct civil {
    i64 year;
    unsigned month, mday, wday, hour, min, sec;
};

static struct civil civil_from_secs(i64 t)
{
    struct civil c;
    i64 days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    i64 rem = t - days * 86400;
    c.hour = (unsigned)(rem / 3600);
    c.min = (unsigned)(rem / 60 % 60);
    c.sec = (unsigned)(rem % 60);
    c.wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    i64 z = days + 719468;
    i64 era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    c.mday = doy - (153 * mp + 2) / 5 + 1;
    c.month = mp < 10 ? mp + 3 : mp - 9;
    c.year = (i64)yoe + era * 400 + (c.month <= 2);
    return c;
}

/* ---- register encoding ---- */

static u8 to_bcd(unsigned v) { return (u8)((v / 10) << 4 | (v % 10)); }
static unsigned from_bcd(u8 v) { return (v >> 4) * 10 + (v & 15); }

static u8 enc(const struct rtc *r, unsigned v)
{
    return r->cmos[RTC_REG_B] & REG_B_DM ? (u8)v : to_bcd(v);
}

static unsigned dec(const struct rtc *r, u8 v)
{
    return r->cmos[RTC_REG_B] & REG_B_DM ? v : from_bcd(v);
}

static u8 enc_hour(const struct rtc *r, unsigned h)
{
    if (r->cmos[RTC_REG_B] & REG_B_24H)
        return enc(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (u8)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc *r, u8 v)
{
    if (r->cmos[RTC_REG_B] & REG_B_24H)
        return dec(r, v);
    unsigned h = dec(r, v & 0x7f) % 12;
    return v & 0x80 ? h + 12 : h;
}

/* Epoch seconds shown by the registers (used when SET is cleared). */
static i64 regs_to_secs(const struct rtc *r)
{
    const u8 *c = r->cmos;
    i64 year = dec(r, c[RTC_YEAR]) + 100 * (i64)from_bcd(c[CMOS_CENTURY]);
    unsigned month = dec(r, c[RTC_MONTH]), mday = dec(r, c[RTC_MDAY]);
    if (month < 1 || month > 12)
        month = 1;
    if (mday < 1 || mday > 31)
        mday = 1;
    return days_from_civil(year, month, mday) * 86400 + dec_hour(r, c[RTC_HOUR]) * 3600 +
           dec(r, c[RTC_MIN]) * 60 + dec(r, c[RTC_SEC]);
}

static void secs_to_regs(struct rtc *r, i64 t)
{
    struct civil c = civil_from_secs(t);
    r->cmos[RTC_SEC] = enc(r, c.sec);
    r->cmos[RTC_MIN] = enc(r, c.min);
    r->cmos[RTC_HOUR] = enc_hour(r, c.hour);
    r->cmos[RTC_WDAY] = enc(r, c.wday + 1);
    r->cmos[RTC_MDAY] = enc(r, c.mday);
    r->cmos[RTC_MONTH] = enc(r, c.month);
    r->cmos[RTC_YEAR] = enc(r, (unsigned)(c.year % 100));
    r->cmos[CMOS_CENTURY] = to_bcd((unsigned)(c.year / 100 % 100));
}

/* ---- time base ---- */

static bool rtc_set_mode(const struct rtc *r) { return r->cmos[RTC_REG_B] & REG_B_SET; }

/* Whole seconds elapsed since origin (0 while SET freezes the clock). */
static u64 elapsed_secs(const struct rtc *r, u64 now)
{
    if (rtc_set_mode(r) || now < r->origin_ns)
        return 0;
    return (now - r->origin_ns) / NS_PER_SEC;
}

static i64 rtc_secs(const struct rtc *r, u64 now)
{
    if (rtc_set_mode(r))
        return r->frozen_sec;
    return r->origin_sec + (i64)elapsed_secs(r, now);
}

/* Periodic interrupt period in ns, 0 when off.  Rates 1 and 2 repeat
 * rates 8 and 9 with the 32.768 kHz time base. */
static u64 periodic_ns(const struct rtc *r)
{
    unsigned rs = r->cmos[RTC_REG_A] & 15;
    if (!rs)
        return 0;
    if (rs <= 2)
        rs += 7;
    return (NS_PER_SEC << (rs - 1)) / 32768;
}

static bool alarm_matches(const struct rtc *r, i64 t)
{
    struct civil c = civil_from_secs(t);
    const u8 *m = r->cmos;
    /* 0xC0-0xFF in an alarm byte means "don't care". */
    return ((m[RTC_SEC_ALARM] & 0xc0) == 0xc0 || dec(r, m[RTC_SEC_ALARM]) == c.sec) &&
           ((m[RTC_MIN_ALARM] & 0xc0) == 0xc0 || dec(r, m[RTC_MIN_ALARM]) == c.min) &&
           ((m[RTC_HOUR_ALARM] & 0xc0) == 0xc0 || dec_hour(r, m[RTC_HOUR_ALARM]) == c.hour);
}

static void rtc_irq_sync(struct rtc *r)
{
    u8 en = r->cmos[RTC_REG_B] & (REG_B_PIE | REG_B_AIE | REG_B_UIE);
    bool irqf = (r->flags & REG_C_PF && en & REG_B_PIE) || (r->flags & REG_C_AF && en & REG_B_AIE) ||
                (r->flags & REG_C_UF && en & REG_B_UIE);
    if (irqf)
        r->flags |= REG_C_IRQF;
    if (irqf != r->irq_level) {
        r->irq_level = irqf;
        irq_set(&r->irq, 8, irqf);
    }
}

/* Fold the seconds and periodic ticks passed since the last call into
 * register C. */
static void rtc_advance(struct rtc *r, u64 now)
{
    if (rtc_set_mode(r))
        return;
    u64 secs = elapsed_secs(r, now);
    if (secs > r->seen_sec) {
        r->flags |= REG_C_UF;
        /* Any second of a whole day would do; looking further is useless. */
        u64 first = secs - r->seen_sec > 86400 ? secs - 86400 : r->seen_sec;
        for (u64 s = first + 1; s <= secs; s++) {
            if (alarm_matches(r, r->origin_sec + (i64)s)) {
                r->flags |= REG_C_AF;
                break;
            }
        }
        r->seen_sec = secs;
    }
    u64 period = periodic_ns(r);
    if (period && now >= r->origin_ns) {
        u64 periods = (now - r->origin_ns) / period;
        if (periods > r->seen_periods)
            r->flags |= REG_C_PF;
        r->seen_periods = periods;
    }
    rtc_irq_sync(r);
}

/* Restart the time base at `now` showing epoch seconds `t`. */
static void rtc_restart(struct rtc *r, i64 t, u64 now)
{
    r->origin_sec = t;
    r->origin_ns = now;
    r->seen_sec = 0;
    r->seen_periods = 0;
}

static void rtc_kick(struct rtc *r)
{
    if (r->kick)
        r->kick(r->kick_opaque);
}

/* ---- ports ---- */

static u8 rtc_read_reg(struct rtc *r, unsigned idx, u64 now)
{
    switch (idx) {
    case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY:
    case RTC_MDAY: case RTC_MONTH: case RTC_YEAR: case CMOS_CENTURY:
        if (!rtc_set_mode(r))
            secs_to_regs(r, rtc_secs(r, now));
        return r->cmos[idx];
    case RTC_REG_A: {
        u8 a = r->cmos[RTC_REG_A] & 0x7f;
        if (!rtc_set_mode(r) && now >= r->origin_ns &&
            (now - r->origin_ns) % NS_PER_SEC >= NS_PER_SEC - UIP_NS)
            a |= REG_A_UIP;
        return a;
    }
    case RTC_REG_C: {
        rtc_advance(r, now);
        u8 c = r->flags;
        r->flags = 0;
        rtc_irq_sync(r);
        return c;
    }
    case RTC_REG_D:
        return 0x80; /* VRT: the battery is fine */
    default:
        return r->cmos[idx];
    }
}

static void rtc_write_reg(struct rtc *r, unsigned idx, u8 val, u64 now)
{
    switch (idx) {
    case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY:
    case RTC_MDAY: case RTC_MONTH: case RTC_YEAR: case CMOS_CENTURY:
        if (!rtc_set_mode(r)) {
            /* Writing with SET off: take the new value from the next second
             * on, keeping the others. */
            rtc_advance(r, now);
            secs_to_regs(r, rtc_secs(r, now));
            r->cmos[idx] = val;
            rtc_restart(r, regs_to_secs(r), now);
        } else {
            r->cmos[idx] = val;
        }
        break;
    case RTC_REG_A:
        rtc_advance(r, now);
        r->cmos[RTC_REG_A] = val & 0x7f;
        r->seen_periods = periodic_ns(r) && now >= r->origin_ns
                              ? (now - r->origin_ns) / periodic_ns(r) : 0;
        rtc_kick(r);
        break;
    case RTC_REG_B: {
        rtc_advance(r, now);
        bool was_set = rtc_set_mode(r);
        /* Changing DM or 24/12 changes how the frozen time is shown. */
        i64 shown = was_set ? regs_to_secs(r) : rtc_secs(r, now);
        if (val & REG_B_SET)
            val &= (u8)~REG_B_UIE; /* SET clears UIE */
        r->cmos[RTC_REG_B] = val;
        secs_to_regs(r, shown);
        if (was_set && !(val & REG_B_SET))
            rtc_restart(r, shown, now);
        else if (val & REG_B_SET)
            r->frozen_sec = shown;
        rtc_irq_sync(r);
        rtc_kick(r);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        r->cmos[idx] = val;
        break;
    }
}

static u32 rtc_port_read(void *opaque, u16 port, unsigned size)
{
    struct rtc *r = opaque;
    if (port == 0x70)
        return 0xff; /* the index register is write-only */
    return rtc_read_reg(r, r->index, clock_now(&r->clock));
}

static void rtc_port_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct rtc *r = opaque;
    if (port == 0x70) {
        r->index = val & 0x7f;
        r->nmi_masked = val & 0x80;
        return;
    }
    rtc_write_reg(r, r->index, (u8)val, clock_now(&r->clock));
}

static const struct io_ops rtc_ops = { rtc_port_read, rtc_port_write };

void rtc_checksum(struct rtc *r)
{
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += r->cmos[i];
    r->cmos[0x2e] = (u8)(sum >> 8);
    r->cmos[0x2f] = (u8)sum;
}

/* Memory-size bytes: base memory, extended memory above 1 MiB in KiB
 * (0x17/0x18, mirrored at 0x30/0x31, at most 0xFFFF), memory above 16 MiB
 * in 64 KiB units (0x34/0x35) and above 4 GiB (0x5B-0x5D, none). */
static void rtc_set_memory(struct rtc *r, u32 ram_mib)
{
    u64 ram = (u64)ram_mib << 20;
    u8 *m = r->cmos;
    m[0x15] = 640 & 0xff;
    m[0x16] = 640 >> 8;
    u64 ext = ram > (1u << 20) ? (ram - (1u << 20)) >> 10 : 0;
    if (ext > 0xffff)
        ext = 0xffff;
    m[0x17] = m[0x30] = (u8)ext;
    m[0x18] = m[0x31] = (u8)(ext >> 8);
    u64 high = ram > (16u << 20) ? (ram - (16u << 20)) >> 16 : 0;
    if (high > 0xffff)
        high = 0xffff;
    m[0x34] = (u8)high;
    m[0x35] = (u8)(high >> 8);
    m[0x5b] = m[0x5c] = m[0x5d] = 0;
}

void rtc_init(struct rtc *r, struct irq_sink irq, struct clock clock, i64 start, u32 ram_mib)
{
    memset(r, 0, sizeof *r);
    r->irq = irq;
    r->clock = clock;
    r->cmos[RTC_REG_A] = 0x26;                    /* 32.768 kHz, 1024 Hz rate */
    r->cmos[RTC_REG_B] = REG_B_24H;               /* BCD, 24-hour */
    r->cmos[0x10] = 0;                            /* no floppy drives */
    r->cmos[0x12] = 0;                            /* no fixed disks in CMOS */
    r->cmos[0x14] = 0x06;                         /* FPU present, VGA/EGA, 0 floppies */
    rtc_set_memory(r, ram_mib);
    rtc_restart(r, start, clock_now(&clock));
    secs_to_regs(r, start);
    rtc_checksum(r);
}

int rtc_map(struct rtc *r, struct mmu *m)
{
    return mmu_map_io(m, 0x70, 2, &rtc_ops, r);
}

u64 rtc_update(struct rtc *r, u64 now)
{
    rtc_advance(r, now);
    if (rtc_set_mode(r))
        return TIME_NEVER;
    u8 b = r->cmos[RTC_REG_B];
    u64 next = TIME_NEVER;
    u64 period = periodic_ns(r);
    if ((b & REG_B_PIE) && period) {
        u64 n = now >= r->origin_ns ? (now - r->origin_ns) / period + 1 : 1;
        next = r->origin_ns + n * period;
    }
    if (b & (REG_B_UIE | REG_B_AIE)) {
        u64 s = r->origin_ns + (elapsed_secs(r, now) + 1) * NS_PER_SEC;
        if (s < next)
            next = s;
    }
    return next;
}
