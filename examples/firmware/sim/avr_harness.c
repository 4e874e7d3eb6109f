/*
 * avr_harness.c -- run the focus_motor firmware in simavr, in real time, so
 * the host's serial driver can be tested against the real sketch.
 *
 * TEST TOOL ONLY. This program links simavr (libsimavr, libsimavrparts),
 * which is GPL-3. It lives under examples/firmware/sim/, is built into
 * build/firmware/ by `make firmware`, and is never linked into or shipped
 * with the assistant package.
 *
 * Usage: avr_harness [--boot-delay SECONDS] FIRMWARE.elf|FIRMWARE.hex [MCU [F_CPU]]
 *        (defaults: atmega328p 16000000, an Arduino Uno or Nano)
 * --boot-delay holds the AVR in reset for that long after the pty appears,
 * like an Uno's bootloader after the port opens; what the host sends
 * meanwhile waits in the pty and reaches the firmware once it runs.
 *
 * The AVR's UART0 appears as a pseudo-terminal; open it with any serial
 * program. Pins, as wired in examples/firmware/README.md:
 *   PD2 (D2) STEP  rising edges are counted, signed by DIR
 *   PD3 (D3) DIR   high = positions rise
 *   PD4 (D4) EN    reported; high = de-energised
 *   PD5 (D5) limit switch to GND; held high (open) until told otherwise,
 *            because simavr 1.6 does not model the internal pull-up
 *
 * stdout, one line each, line-buffered (other simavr chatter goes to stderr):
 *   pty <path>                       once at start: the UART's pty
 *   steps net=<n> pulses=<n> en=<0|1> dir=<0|1> t=<s> first_t=<s> last_t=<s> high_us=<us> setup_us=<us>
 *                                    reply to `steps?`: t is the simulated time; first_t and
 *                                    last_t the simulated times of the first and the last
 *                                    STEP edge since the previous `steps?`; high_us the
 *                                    shortest STEP pulse, setup_us the shortest time from a
 *                                    DIR change to the next STEP edge (all -1 until seen)
 *   limit <0|1>                      reply to `limit 0|1`
 *   error <text>                     a bad control line, or the AVR crashed
 *   bye                              reply to `quit`, then the harness exits
 * stdin, one command a line:
 *   steps?      the step counters and pin levels
 *   limit 0     close the limit switch (D5 low); `limit 1` opens it again
 *   quit        exit (so does end of input, e.g. when the parent dies)
 */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avr_extint.h"
#include "avr_ioport.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_hex.h"
#include "sim_time.h"
#include "uart_pty.h"

enum { PIN_STEP = 2, PIN_DIR = 3, PIN_EN = 4, PIN_LIMIT = 5 };

/* Catch up at most this far when the host was too busy to keep pace; beyond
 * it the simulated clock slips, so it is never ahead of the wall clock. */
#define MAX_LAG_NS 50000000LL
#define SLICE_US 500 /* simulate this much, then sync to the wall clock and read stdin */

typedef struct harness_t {
    avr_t *avr;
    uart_pty_t uart;
    avr_irq_t *limit_irq;
    long net_steps;        /* rising STEP edges, +1 with DIR high, -1 with DIR low */
    unsigned long pulses;  /* all rising STEP edges */
    uint32_t step_level, dir_level, en_level;
    avr_cycle_count_t step_rise, dir_change;  /* when STEP last rose and DIR last changed */
    avr_cycle_count_t window_first;           /* first STEP edge since the last `steps?`, 0: none */
    int dir_changed;                          /* DIR changed since the last STEP edge */
    long min_high, min_setup;                 /* shortest pulse and DIR setup, cycles; -1: none yet */
    char input[256];       /* the control line being received on stdin */
    size_t input_len;
} harness_t;

static void on_step(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    harness_t *h = param;
    value &= 1;
    avr_cycle_count_t now = h->avr->cycle;
    if (value && !h->step_level) {
        h->pulses++;
        h->net_steps += h->dir_level ? 1 : -1;
        h->step_rise = now;
        if (h->window_first == 0) {
            h->window_first = now;
        }
        if (h->dir_changed && (h->min_setup < 0 || (long)(now - h->dir_change) < h->min_setup)) {
            h->min_setup = (long)(now - h->dir_change);
        }
        h->dir_changed = 0;
    } else if (!value && h->step_level && (h->min_high < 0 || (long)(now - h->step_rise) < h->min_high)) {
        h->min_high = (long)(now - h->step_rise);
    }
    h->step_level = value;
}

static void on_dir(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    harness_t *h = param;
    h->dir_level = value & 1;
    h->dir_change = h->avr->cycle;
    h->dir_changed = 1;
}

static void on_en(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    ((harness_t *)param)->en_level = value & 1;
}

/* simavr logs traces to stdout by default; keep stdout for the control replies. */
static void stderr_logger(avr_t *avr, const int level, const char *format, va_list ap) {
    if (!avr || avr->log >= level) {
        vfprintf(stderr, format, ap);
    }
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

static int load_firmware(const char *path, elf_firmware_t *fw) {
    memset(fw, 0, sizeof(*fw));
    if (ends_with(path, ".hex")) {
        uint32_t size = 0, start = 0;
        fw->flash = read_ihex_file(path, &size, &start);
        fw->flashsize = size;
        fw->flashbase = start;
        return fw->flash != NULL ? 0 : -1;
    }
    return elf_read_firmware(path, fw);
}

/* The limit switch: closed pulls D5 to GND, open leaves it at the pull-up's high level.
 * The "external" state wins over the port's own idea of the pin whenever the firmware
 * writes PORTD, so a closed switch stays closed while the STEP pin toggles. */
static void set_limit(harness_t *h, int level) {
    avr_ioport_external_t ext = {.name = 'D', .mask = 1 << PIN_LIMIT, .value = level ? 1 << PIN_LIMIT : 0};
    avr_ioctl(h->avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &ext);
    avr_raise_irq(h->limit_irq, level ? 1 : 0);
}

static void handle_command(harness_t *h, const char *line) {
    if (strcmp(line, "steps?") == 0) {
        double hz = h->avr->frequency;
        int in_window = h->window_first != 0;
        printf("steps net=%ld pulses=%lu en=%u dir=%u t=%.6f first_t=%.6f last_t=%.6f high_us=%.3f setup_us=%.3f\n",
               h->net_steps, h->pulses, h->en_level, h->dir_level, h->avr->cycle / hz,
               in_window ? h->window_first / hz : -1.0, in_window ? h->step_rise / hz : -1.0,
               h->min_high < 0 ? -1.0 : h->min_high * 1e6 / hz, h->min_setup < 0 ? -1.0 : h->min_setup * 1e6 / hz);
        h->window_first = 0;
    } else if (strcmp(line, "limit 0") == 0 || strcmp(line, "limit 1") == 0) {
        int level = line[6] == '1';
        set_limit(h, level);
        printf("limit %d\n", level);
    } else if (strcmp(line, "quit") == 0) {
        printf("bye\n");
        exit(0); /* not uart_pty_stop(): its pthread_join can hang */
    } else if (line[0] != '\0') {
        printf("error unknown command '%s'; use steps?, limit 0, limit 1 or quit\n", line);
    }
}

/* Reads whatever the test has written to stdin, without blocking the simulation. */
static void poll_stdin(harness_t *h) {
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    while (poll(&pfd, 1, 0) > 0) {
        char chunk[128];
        ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            exit(0); /* the test went away: do not linger */
        }
        for (ssize_t i = 0; i < n; i++) {
            char c = chunk[i];
            if (c == '\n') {
                h->input[h->input_len] = '\0';
                if (h->input_len > 0 && h->input[h->input_len - 1] == '\r') {
                    h->input[h->input_len - 1] = '\0';
                }
                handle_command(h, h->input);
                h->input_len = 0;
            } else if (h->input_len < sizeof(h->input) - 1) {
                h->input[h->input_len++] = c;
            }
        }
    }
}

int main(int argc, char **argv) {
    double boot_delay = 0.0;
    if (argc > 2 && strcmp(argv[1], "--boot-delay") == 0) {
        boot_delay = strtod(argv[2], NULL);
        argc -= 2;
        argv += 2;
    }
    if (argc < 2 || argc > 4 || argv[1][0] == '-') {
        fprintf(stderr, "usage: avr_harness [--boot-delay SECONDS] FIRMWARE.elf|FIRMWARE.hex [MCU [F_CPU]]\n");
        return 2;
    }
    const char *mcu = argc > 2 ? argv[2] : "atmega328p";
    uint32_t frequency = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 16000000UL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    avr_global_logger_set(stderr_logger);

    static harness_t h; /* large (the pty FIFOs), so not on the stack */
    h.min_high = h.min_setup = -1;
    elf_firmware_t fw;
    if (load_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "avr_harness: cannot load firmware %s\n", argv[1]);
        return 1;
    }
    if (fw.mmcu[0] == '\0') {
        snprintf(fw.mmcu, sizeof(fw.mmcu), "%s", mcu);
    }
    if (fw.frequency == 0) {
        fw.frequency = frequency;
    }
    h.avr = avr_make_mcu_by_name(fw.mmcu);
    if (h.avr == NULL) {
        fprintf(stderr, "avr_harness: simavr does not know the MCU %s\n", fw.mmcu);
        return 1;
    }
    avr_init(h.avr);
    avr_load_firmware(h.avr, &fw);
    /* STEP and DIR sit on INT0 and INT1. While such a pin is low, simavr polls it every cycle for a
     * level-triggered interrupt, even one that is not enabled, which made the simulation slower than
     * real time. The firmware uses no external interrupts, so switch that polling off. */
    avr_extint_set_strict_lvl_trig(h.avr, 0, 0);
    avr_extint_set_strict_lvl_trig(h.avr, 1, 0);

    /* uart_pty prints its own notes with printf: send them to stderr too. */
    fflush(stdout);
    int saved_stdout = dup(STDOUT_FILENO);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    uart_pty_init(h.avr, &h.uart);
    uart_pty_connect(&h.uart, '0'); /* also points the fixed link /tmp/simavr-uart0 here; not used */
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    if (h.uart.pty.s <= 0) {
        fprintf(stderr, "avr_harness: could not create a pseudo-terminal\n");
        return 1;
    }
    /* No usleep() whenever the firmware polls the UART status: the loop below paces the simulation. */
    uint32_t flags = 0;
    avr_ioctl(h.avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~AVR_UART_FLAG_POLL_SLEEP;
    avr_ioctl(h.avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);

    avr_irq_t *port_d = avr_io_getirq(h.avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 0);
    avr_irq_register_notify(port_d + PIN_STEP, on_step, &h);
    avr_irq_register_notify(port_d + PIN_DIR, on_dir, &h);
    avr_irq_register_notify(port_d + PIN_EN, on_en, &h);
    h.limit_irq = port_d + PIN_LIMIT;
    set_limit(&h, 1);

    printf("pty %s\n", h.uart.pty.slavename);
    for (int64_t boot_end = now_ns() + (int64_t)(boot_delay * 1e9); now_ns() < boot_end;) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&pause, NULL);
        poll_stdin(&h);
    }

    /* Real time: run a slice, then sleep until the wall clock has caught up with it. */
    const avr_cycle_count_t slice = (avr_cycle_count_t)h.avr->frequency / 1000000 * SLICE_US;
    int64_t origin = now_ns() - (int64_t)avr_cycles_to_nsec(h.avr, h.avr->cycle);
    for (;;) {
        avr_cycle_count_t end = h.avr->cycle + slice;
        while (h.avr->cycle < end) {
            int state = avr_run(h.avr);
            if (state == cpu_Done || state == cpu_Crashed) {
                printf("error the AVR stopped (state %d) at pc 0x%04x\n", state, h.avr->pc);
                return 1;
            }
        }
        int64_t ahead = origin + (int64_t)avr_cycles_to_nsec(h.avr, h.avr->cycle) - now_ns();
        if (ahead > 0) {
            struct timespec pause = {.tv_sec = ahead / 1000000000LL, .tv_nsec = ahead % 1000000000LL};
            nanosleep(&pause, NULL);
        } else if (ahead < -MAX_LAG_NS) {
            origin += -ahead - MAX_LAG_NS; /* slip: the firmware's clock loses the excess */
        }
        poll_stdin(&h);
    }
}
