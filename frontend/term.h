/*
 * The terminal on standard input while a serial port uses it: raw mode,
 * so that the guest's line editing works (each key reaches the guest at
 * once, unechoed), and the original settings back on every way out.
 */
#ifndef UMBRA_FRONTEND_TERM_H
#define UMBRA_FRONTEND_TERM_H

#include <stdbool.h>

/* If standard input is a terminal, put it in raw mode (output processing
 * kept, so "\n" still starts a line).  `signals`: Ctrl-C and Ctrl-\ still
 * signal umbra (plain -serial stdio); without, they go to the guest
 * (-serial mon:stdio, where Ctrl-A x quits).  The settings are restored
 * at exit and on SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT and SIGSEGV. */
void term_raw_begin(bool signals);
/* Restore the terminal now (idempotent; safe in a signal handler). */
void term_restore(void);

#endif
