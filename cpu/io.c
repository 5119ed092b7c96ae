/*
 * I/O permission checks (SDM vol. 1, 18.5 "Protected-mode I/O").
 */
#include "cpu_state.h"
#include "system.h"

void io_check(struct cpu *c, u16 port, unsigned size)
{
    if ((c->mode & MODE_PE) && (c->cpl > cpu_iopl(c) || (c->mode & MODE_VM86)))
        cpu_gp(c, 0);
}
