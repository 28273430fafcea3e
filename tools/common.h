/*
 * common.h - what every pdtools program shares: messages, exit codes,
 * option tables that also drive --help, --list-options (completions, man
 * checks) and the end-of-run stdout check.
 */
#ifndef PD_TOOLS_COMMON_H
#define PD_TOOLS_COMMON_H

#include <getopt.h>
#include <sys/types.h>
#include <stdio.h>

#include "pd.h"

enum { PD_EXIT_OK = 0, PD_EXIT_DIFF = 1, PD_EXIT_TROUBLE = 2 };

/* One option: getopt_long's entry plus what --help and completions need. */
struct tool_opt {
	const char *name;
	int has_arg;
	int val;
	const char *argkind;		/* "file", "dir", "event", a|b|c list, or NULL */
	const char *help;
};

extern int tool_verbose;
extern int tool_quiet;
/* The exit status of bad usage and pd_die (2; pdrecord with a command: 125, as env(1)). */
extern int tool_usage_status;
/* The last paragraph of --help. */
extern const char *tool_exit_help;

void tool_init(const char *argv0);
/* --debuginfod: let libdwfl use the DEBUGINFOD_URLS servers (tool_init hides them). */
void tool_allow_debuginfod(void);
void pd_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int pd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The one line about reader R after pd_session_run returned RC: on damage
 * (RC < 0, not PD_E_CALLBACK) the error, with the count of the samples that
 * could not be read in it; else at most one warning, joining the reader's
 * warnings and damage notes, the events the kernel lost and the samples
 * that could not be read (NOTREAD says what became of them, "are not
 * folded").  Returns PD_EXIT_TROUBLE after an error, else PD_EXIT_OK.
 */
struct pd_reader;
int tool_reader_report(const struct pd_reader *r, int rc, const char *notread);
/* "TOOL: message" on stderr, as the -v summaries print it (also with -q). */
void pd_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * getopt_long over OPTS; handles -h/--help, -V/--version, -q, -v and the
 * hidden --list-options itself.  Returns the next tool-specific option, -1 at
 * the end; bad usage exits 2 after printing USAGE.
 */
int tool_getopt(int argc, char **argv, const struct tool_opt *opts, const char *usage,
    const char *summary);
/*
 * The index of the first operand (argc when none), by a silent scan of the
 * options that tool_getopt then repeats from the start.
 */
int tool_first_operand(int argc, char **argv, const struct tool_opt *opts);
/* Print the message and the usage line to stderr and exit tool_usage_status. */
void tool_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/*
 * The input of a reader given no file operand, as perf decides it: "-"
 * (standard input) when standard input is a pipe or a socket, otherwise
 * "perf.data" - also when it is a terminal, /dev/null, a file or closed.
 */
const char *tool_default_input(void);

/*
 * The first bytes of input FILE ("-": standard input), up to LEN, without
 * consuming them (pread for a file, tee(2) for a pipe), to tell perf.data
 * from text.  *KEEP_FD is the descriptor opened for a named FILE (-1 for
 * "-"): keep it open to the end, so that a FIFO's writer never sees no
 * reader.  Returns how many bytes, or -1 when it cannot tell.
 */
ssize_t tool_peek_input(const char *file, int *keep_fd, unsigned char *buf, size_t len);

/* All of FD, NUL-terminated, its length in *LEN; NULL with errno on a read error. */
char *tool_read_all(int fd, size_t *len);

/* /proc/sys/kernel/perf_event_max_stack, or 0 when it cannot be read. */
unsigned tool_max_stack(void);

/*
 * The progress line.  TOOL_OPT_PROGRESS goes in the option table of a tool
 * that reads perf.data; tool_getopt then takes --progress itself.  After the
 * options, tool_progress_start shows a line on stderr while the readers
 * read: when stderr is a terminal and an input is at least 8 MiB (a pipe:
 * once 8 MiB are read), unless -q or in the background; always with
 * --progress (which wins over -q).  Messages through pd_error, pd_warn,
 * pd_note and pd_info, output through the terminal guard and exit erase it
 * first.
 */
#define TOOL_OPT_PROGRESS_VAL 0x1001
#define TOOL_OPT_PROGRESS \
	{ "progress", no_argument, TOOL_OPT_PROGRESS_VAL, NULL, \
	  "show the progress line on stderr even when it is not a terminal" }
extern int tool_progress;
void tool_progress_start(void);

/* fflush stdout and turn a write error into exit status 2. */
int tool_finish(int status);

#endif
