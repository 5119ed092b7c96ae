/*
 * libFuzzer harness for the interpreter and the decoder.
 *
 * One input is a machine state followed by code (the layout is in
 * fuzz_machine.h).  The decoder also runs on the raw input bytes, in both
 * code sizes.  The property checked is that nothing the guest does makes
 * the host crash or access memory outside the guest's RAM
 * (AddressSanitizer and UBSan watch every step).
 */
#include "cpu/decode.h"
#include "fuzz_machine.h"

#define BUDGET 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The decoder alone, on the raw input, in both modes. */
    struct insn di;
    (void)dec_decode_buf(data, size, false, &di);
    (void)dec_decode_buf(data, size, true, &di);

    static struct bus b;
    if (!bus_wipe(&b))
        return 0;
    struct cpu *c = cpu_new(b.m, &b.cnt, &b.lg);
    if (!c)
        return 0;
    struct spec s;
    spec_parse(&s, data, size);
    machine_setup(c, b.m, &s);

    for (unsigned k = 0; k < 4; k++) {
        enum cpu_exit e = cpu_run(c, BUDGET / 4);
        if (e == CPU_EXIT_SHUTDOWN || e == CPU_EXIT_HALT)
            break;
        if (e == CPU_EXIT_IDLE) {
            /* HLT with IF set: wake it with an NMI so delivery runs too. */
            cpu_raise_nmi(c);
        }
    }

    cpu_free(c);
    return 0;
}
