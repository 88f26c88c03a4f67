/*
 * Runs a command and reports what it cost: wall time, CPU time and peak
 * resident memory (ru_maxrss of the child from wait4), so the benchmark
 * script needs neither GNU time nor /proc.
 *
 * Usage: measure OUTPUT_FILE COMMAND [ARG...]
 * The command's standard output and error go to OUTPUT_FILE.  measure
 * prints one line
 *   wall_seconds=W cpu_seconds=C max_rss_kb=K status=S
 * and exits with the command's exit status (128 + signal if it was
 * killed).
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds_of(const struct timeval *value)
{
    return (double)value->tv_sec + (double)value->tv_usec / 1e6;
}

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* In the child: sends both output streams to `path` and runs `argv`. */
static void run_child(const char *path, char **argv)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        _exit(127);
    }
    if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
        perror("dup2");
        _exit(127);
    }
    close(fd);
    execvp(argv[0], argv);
    perror(argv[0]);
    _exit(127);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: measure OUTPUT_FILE COMMAND [ARG...]\n");
        return 2;
    }
    double start = monotonic_seconds();
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 2;
    }
    if (child == 0)
        run_child(argv[1], argv + 2);

    int status;
    struct rusage usage;
    if (wait4(child, &status, 0, &usage) < 0) {
        perror("wait4");
        return 2;
    }
    double wall = monotonic_seconds() - start;
    int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    printf("wall_seconds=%.3f cpu_seconds=%.3f max_rss_kb=%ld status=%d\n", wall,
           seconds_of(&usage.ru_utime) + seconds_of(&usage.ru_stime),
           usage.ru_maxrss, exit_status);
    return exit_status;
}
