/*
 * Raw terminal mode (termios(3): cfmakeraw's settings, with OPOST kept),
 * undone at exit and by the fatal signals, which are then re-raised with
 * their default action so the exit status still tells what happened.
 */
#include "term.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static volatile sig_atomic_t raw_on;

void term_restore(void)
{
    if (raw_on) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        raw_on = 0;
    }
}

static void on_signal(int sig)
{
    term_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

void term_raw_begin(bool signals)
{
    if (raw_on || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
        return;
    struct termios t = saved;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    if (!signals)
        t.c_lflag &= ~(tcflag_t)ISIG;
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
        return;
    raw_on = 1;
    atexit(term_restore);
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS };
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[k], &sa, NULL);
    }
}
