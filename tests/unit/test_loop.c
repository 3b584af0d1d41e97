/* The epoll loop (user/loop.c) on pipes, eventfds and a timerfd: callbacks
 * with their context, stop codes, errors from add and from callbacks,
 * edge-triggered registration, hang-ups, and a signal during the wait. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include "loop.h"

static struct fb_loop *L;

struct cb {
	int fd;          /* the fd it was registered for */
	int calls;
	uint32_t events; /* of the last call */
	int ret;         /* what it returns */
	bool drain;      /* read what is there (else leave it) */
	int kick;        /* an eventfd to write on the first call, or -1 */
	int stop_after;  /* return 1 at this call (0: never) */
};

static int on_fd(void *ctx, int fd, uint32_t events)
{
	struct cb *c = ctx;
	uint64_t v;

	cr_assert_eq(fd, c->fd, "callback got fd %d, registered %d", fd, c->fd);
	c->calls++;
	c->events = events;
	if (c->drain)
		cr_assert_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	if (c->kick >= 0 && c->calls == 1) {
		v = 1;
		cr_assert_eq(write(c->kick, &v, sizeof(v)), (ssize_t)sizeof(v));
	}
	if (c->stop_after && c->calls == c->stop_after)
		return 1;
	return c->ret;
}

static int efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	cr_assert_geq(fd, 0, "eventfd: %s", strerror(errno));
	return fd;
}

static void poke(int fd)
{
	uint64_t v = 1;

	cr_assert_eq(write(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
}

static struct cb mkcb(int fd, int ret)
{
	return (struct cb){ .fd = fd, .ret = ret, .drain = true, .kick = -1 };
}

static void setup(void)
{
	L = fb_loop__new();
	cr_assert_not_null(L, "fb_loop__new: %s", strerror(errno));
}

static void teardown(void)
{
	fb_loop__free(L);
	L = NULL;
}

TestSuite(loop, .init = setup, .fini = teardown);

Test(loop, callback_gets_its_fd_context_and_events_and_stops_with_1)
{
	int fd = efd();
	struct cb c = mkcb(fd, 1);

	cr_assert_eq(fb_loop__add(L, fd, EPOLLIN, on_fd, &c), 0);
	poke(fd);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect_eq(c.calls, 1);
	cr_expect(c.events & EPOLLIN, "events 0x%x without EPOLLIN", c.events);
	close(fd);
}

/* A callback returning 0 keeps the loop going: the first fd's callback
 * makes the second one ready, whose callback stops the loop. */
Test(loop, zero_goes_on_until_another_callback_stops)
{
	int a = efd(), b = efd();
	struct cb ca = mkcb(a, 0), cb = mkcb(b, 1);

	ca.kick = b;
	cr_assert_eq(fb_loop__add(L, a, EPOLLIN, on_fd, &ca), 0);
	cr_assert_eq(fb_loop__add(L, b, EPOLLIN, on_fd, &cb), 0);
	poke(a);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect_eq(ca.calls, 1);
	cr_expect_eq(cb.calls, 1);
	close(a);
	close(b);
}

Test(loop, negative_code_stops_with_that_code)
{
	int fd = efd();
	struct cb c = mkcb(fd, -EPIPE);

	cr_assert_eq(fb_loop__add(L, fd, EPOLLIN, on_fd, &c), 0);
	poke(fd);
	cr_expect_eq(fb_loop__run(L), -EPIPE);
	cr_expect_eq(c.calls, 1);
	close(fd);
}

/* The loop can be run again after a stop, and picks up where it was. */
Test(loop, runs_again_after_a_stop)
{
	int fd = efd();
	struct cb c = mkcb(fd, 1);

	cr_assert_eq(fb_loop__add(L, fd, EPOLLIN, on_fd, &c), 0);
	poke(fd);
	cr_expect_eq(fb_loop__run(L), 1);
	c.ret = 2; /* any non-zero stops; run returns it as is */
	poke(fd);
	cr_expect_eq(fb_loop__run(L), 2);
	cr_expect_eq(c.calls, 2);
	close(fd);
}

/* Two fds ready in the same wait: a stop from the first callback is final,
 * the second one does not run. */
Test(loop, stop_skips_the_rest_of_the_ready_fds)
{
	int a = efd(), b = efd();
	struct cb ca = mkcb(a, 1), cb = mkcb(b, 1);

	cr_assert_eq(fb_loop__add(L, a, EPOLLIN, on_fd, &ca), 0);
	cr_assert_eq(fb_loop__add(L, b, EPOLLIN, on_fd, &cb), 0);
	poke(a);
	poke(b);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect_eq(ca.calls + cb.calls, 1, "callbacks ran after a stop: a %d, b %d", ca.calls,
		     cb.calls);
	close(a);
	close(b);
}

/* Every ready fd's callback runs in one pass when none stops. */
Test(loop, every_ready_fd_runs)
{
	enum { N = 5 };
	int fds[N], i, stop = efd();
	struct cb c[N], cs = mkcb(stop, 1);

	for (i = 0; i < N; i++) {
		fds[i] = efd();
		c[i] = mkcb(fds[i], 0);
		cr_assert_eq(fb_loop__add(L, fds[i], EPOLLIN, on_fd, &c[i]), 0);
		poke(fds[i]);
	}
	c[N - 1].kick = stop;
	cr_assert_eq(fb_loop__add(L, stop, EPOLLIN, on_fd, &cs), 0);
	cr_expect_eq(fb_loop__run(L), 1);
	for (i = 0; i < N; i++)
		cr_expect_eq(c[i].calls, 1, "fd %d: %d calls", i, c[i].calls);
	for (i = 0; i < N; i++)
		close(fds[i]);
	close(stop);
}

/* EPOLLET passes through: an edge-triggered fd left unread is not
 * reported again (a level-triggered one would be, at the next wait). */
Test(loop, edge_triggered_fd_reported_once_per_write)
{
	int a = efd(), b = efd();
	struct cb ca = mkcb(a, 0), cb = mkcb(b, 1);

	ca.drain = false;
	ca.kick = b;
	cr_assert_eq(fb_loop__add(L, a, EPOLLIN | EPOLLET, on_fd, &ca), 0);
	cr_assert_eq(fb_loop__add(L, b, EPOLLIN, on_fd, &cb), 0);
	poke(a);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect_eq(ca.calls, 1, "edge-triggered fd reported %d times", ca.calls);
	close(a);
	close(b);
}

/* Level-triggered (the default): an unread fd is reported at every wait. */
Test(loop, level_triggered_fd_reported_until_read)
{
	int a = efd();
	struct cb ca = mkcb(a, 0);

	ca.drain = false;
	ca.stop_after = 3;
	cr_assert_eq(fb_loop__add(L, a, EPOLLIN, on_fd, &ca), 0);
	poke(a);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect_eq(ca.calls, 3);
	close(a);
}

/* The write end closing is reported (EPOLLHUP) even if not asked for. */
Test(loop, hangup_reaches_the_callback)
{
	int p[2];
	struct cb c;

	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	c = mkcb(p[0], 1);
	c.drain = false;
	cr_assert_eq(fb_loop__add(L, p[0], EPOLLIN, on_fd, &c), 0);
	close(p[1]);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect(c.events & EPOLLHUP, "events 0x%x without EPOLLHUP", c.events);
	close(p[0]);
}

Test(loop, add_reports_errors_as_negative_errno)
{
	int fd = efd(), p[2];
	struct cb c = mkcb(fd, 1);
	char path[] = "/tmp/fb_loop_test_XXXXXX";
	int file = mkstemp(path);

	cr_expect_eq(fb_loop__add(L, -1, EPOLLIN, on_fd, &c), -EBADF);
	cr_assert_eq(fb_loop__add(L, fd, EPOLLIN, on_fd, &c), 0);
	cr_expect_eq(fb_loop__add(L, fd, EPOLLIN, on_fd, &c), -EEXIST);
	/* a regular file cannot be polled */
	cr_assert_geq(file, 0);
	unlink(path);
	cr_expect_eq(fb_loop__add(L, file, EPOLLIN, on_fd, &c), -EPERM);
	close(file);
	/* a closed fd */
	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	cr_expect_eq(fb_loop__add(L, p[0], EPOLLIN, on_fd, &c), -EBADF);
	/* the failed adds left the good one working */
	poke(fd);
	cr_expect_eq(fb_loop__run(L), 1);
	cr_expect_eq(c.calls, 1);
	close(fd);
}

/* A signal that interrupts epoll_wait (EINTR) does not end the loop. The
 * handler itself makes an fd ready, so the signal is certain to arrive
 * while the loop waits: nothing else can wake it. */
static int sig_fd = -1;

static void on_alarm(int sig)
{
	uint64_t v = 1;
	ssize_t r = write(sig_fd, &v, sizeof(v));

	(void)r;
}

Test(loop, signal_during_the_wait_is_not_an_error)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };
	struct cb c;

	sig_fd = efd();
	c = mkcb(sig_fd, 1);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	cr_assert_eq(fb_loop__add(L, sig_fd, EPOLLIN, on_fd, &c), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	cr_expect_eq(fb_loop__run(L), 1, "the loop did not survive EINTR");
	cr_expect_eq(c.calls, 1);
	close(sig_fd);
}

Test(loop, free_is_null_safe)
{
	fb_loop__free(NULL);
}

/* The timer helper: absolute CLOCK_MONOTONIC times, once or periodic. */
Test(loop, timer_fd_fires_at_an_absolute_time_once_or_periodically)
{
	struct timespec now;
	uint64_t t0, exp;
	int once, tick;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t0 = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	once = fb_timer_fd(t0 + 20000000ull, 0);
	tick = fb_timer_fd(t0 + 10000000ull, 10000000ull);
	cr_assert_geq(once, 0);
	cr_assert_geq(tick, 0);
	cr_assert_eq(read(once, &exp, sizeof(exp)), -1, "non-blocking, not yet expired");
	cr_assert_eq(errno, EAGAIN);
	usleep(60000);
	cr_assert_eq(read(once, &exp, sizeof(exp)), (ssize_t)sizeof(exp));
	cr_assert_eq(exp, 1, "a one-shot timer expires once");
	cr_assert_eq(read(tick, &exp, sizeof(exp)), (ssize_t)sizeof(exp));
	cr_assert_geq(exp, 4, "a 10 ms period over 50 ms: %llu expirations", (unsigned long long)exp);
	usleep(30000);
	cr_assert_eq(read(once, &exp, sizeof(exp)), -1, "the one-shot timer stays quiet");
	close(once);
	close(tick);
}
