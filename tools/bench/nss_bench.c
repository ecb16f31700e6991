/*
 * tools/bench/nss_bench.c: time an NSS module's calls directly, or glibc's, for
 * tools/bench/identity.sh.
 *
 *   nss_bench MODULE_PATH MODULE_NAME OP NAME COUNT
 *
 * MODULE_PATH/MODULE_NAME: the module to dlopen() and its NSS name, e.g.
 *   /tmp/x/libnss_adjoin.so.2 adjoin, /lib/x86_64-linux-gnu/libnss_winbind.so.2 winbind,
 *   libnss_sss.so.2 sss. Ignored ("-" is fine) for the *_libc ops and getgrouplist, which go
 *   through glibc and nsswitch.conf.
 * OP:
 *   getpwnam        _nss_<name>_getpwnam_r(NAME)
 *   initgroups      _nss_<name>_initgroups_dyn(NAME, gid) (the gid from one getpwnam_r
 *                   through the module first, as glibc's initgroups does)
 *   getgrnam        _nss_<name>_getgrnam_r(NAME) (the buffer grows on ERANGE)
 *   getpwnam_libc   glibc getpwnam_r(NAME), through nsswitch.conf
 *   getgrouplist    glibc getgrouplist(NAME, gid), through nsswitch.conf
 *   getgrnam_libc   glibc getgrnam_r(NAME), through nsswitch.conf
 *   getpwnam_each   _nss_<name>_getpwnam_r once for each of the names in NAME (comma
 *                   separated), no warm-up: the cold lookup of names not seen before.
 *                   COUNT is how many of them to use (0: all).
 * COUNT: calls to time (after one untimed warm-up call, which must succeed).
 *
 * Prints one JSON line:
 *   {"module", "op", "name", "count", "ns_per_call", "p50_ns", "p99_ns", "max_ns",
 *    "samples", "clock_ns", "result", "ok"}
 * ns_per_call is the mean over COUNT calls timed as one loop (two clock reads in all);
 * p50/p99/max come from a second pass of min(COUNT, 10000) calls each timed on its own with
 * clock_gettime(CLOCK_MONOTONIC), so they include one clock read (clock_ns, the median cost
 * of two back-to-back reads, is printed to judge that). For getpwnam_each there is one pass:
 * every call timed on its own, ns_per_call their mean. ok is false if any call failed (the
 * run still prints, with "failures"); the exit status is 0 only when ok.
 *
 * Build: cc -O2 -o nss_bench tools/bench/nss_bench.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SAMPLES 10000

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*getgrnam_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*initgroups_fn)(const char *, gid_t, long int *, long int *, gid_t **,
                                         long int, int *);

static const char *g_module_path, *g_module, *g_op, *g_name;
static getpwnam_fn g_getpwnam;
static getgrnam_fn g_getgrnam;
static initgroups_fn g_initgroups;

static struct passwd g_pw;
static char g_pwbuf[65536];
static struct group g_gr;
static char *g_grbuf;
static size_t g_grbuflen = 16384;
static gid_t g_gid;
static gid_t *g_groups;
static long int g_groups_size = 1024;
static int g_groups_libc_max = 65536;
static long g_result_n; /* groups or members of the last successful call */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg) {
  fprintf(stderr, "nss_bench: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(2);
}

static void *sym(void *h, const char *fn) {
  char name[256];
  snprintf(name, sizeof name, "_nss_%s_%s", g_module, fn);
  void *p = dlsym(h, name);
  if (!p) die("module has no %s", name);
  return p;
}

/* One call of the operation on `name`; returns 1 on success. */
static int call(const char *name) {
  int err = 0;
  enum nss_status st;
  if (!strcmp(g_op, "getpwnam") || !strcmp(g_op, "getpwnam_each")) {
    st = g_getpwnam(name, &g_pw, g_pwbuf, sizeof g_pwbuf, &err);
    return st == NSS_STATUS_SUCCESS;
  }
  if (!strcmp(g_op, "initgroups")) {
    /* As glibc's internal_getgrouplist: the primary gid first, start = 1, no limit. */
    long int start = 1;
    g_groups[0] = g_gid;
    st = g_initgroups(name, g_gid, &start, &g_groups_size, &g_groups, -1, &err);
    g_result_n = start;
    return st == NSS_STATUS_SUCCESS;
  }
  if (!strcmp(g_op, "getgrnam")) {
    for (;;) {
      st = g_getgrnam(name, &g_gr, g_grbuf, g_grbuflen, &err);
      if (st == NSS_STATUS_TRYAGAIN && err == ERANGE && g_grbuflen < (64u << 20)) {
        g_grbuflen *= 2;
        g_grbuf = realloc(g_grbuf, g_grbuflen);
        if (!g_grbuf) die("%s", "out of memory");
        continue;
      }
      break;
    }
    if (st != NSS_STATUS_SUCCESS) return 0;
    long n = 0;
    while (g_gr.gr_mem && g_gr.gr_mem[n]) n++;
    g_result_n = n;
    return 1;
  }
  if (!strcmp(g_op, "getpwnam_libc")) {
    struct passwd *res = NULL;
    return getpwnam_r(name, &g_pw, g_pwbuf, sizeof g_pwbuf, &res) == 0 && res != NULL;
  }
  if (!strcmp(g_op, "getgrouplist")) {
    int n = g_groups_libc_max;
    int r = getgrouplist(name, g_gid, g_groups, &n);
    g_result_n = n;
    return r >= 0;
  }
  if (!strcmp(g_op, "getgrnam_libc")) {
    struct group *res = NULL;
    int r;
    for (;;) {
      r = getgrnam_r(name, &g_gr, g_grbuf, g_grbuflen, &res);
      if (r == ERANGE && g_grbuflen < (64u << 20)) {
        g_grbuflen *= 2;
        g_grbuf = realloc(g_grbuf, g_grbuflen);
        if (!g_grbuf) die("%s", "out of memory");
        continue;
      }
      break;
    }
    if (r != 0 || res == NULL) return 0;
    long n = 0;
    while (g_gr.gr_mem && g_gr.gr_mem[n]) n++;
    g_result_n = n;
    return 1;
  }
  die("unknown op %s", g_op);
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t pct(const uint64_t *v, long n, double p) {
  if (n <= 0) return 0;
  long k = (long)(p * n + 0.999999);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return v[k - 1];
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr,
            "usage: nss_bench MODULE_PATH MODULE_NAME OP NAME COUNT\n"
            "  OP: getpwnam initgroups getgrnam getpwnam_each getpwnam_libc getgrouplist "
            "getgrnam_libc\n");
    return 2;
  }
  g_module_path = argv[1];
  g_module = argv[2];
  g_op = argv[3];
  g_name = argv[4];
  char *end;
  long count = strtol(argv[5], &end, 10);
  if (*end || count < 0 || (count == 0 && strcmp(g_op, "getpwnam_each")))
    die("COUNT must be a positive integer, not %s", argv[5]);

  int via_libc = !strcmp(g_op, "getpwnam_libc") || !strcmp(g_op, "getgrouplist") ||
                 !strcmp(g_op, "getgrnam_libc");
  g_grbuf = malloc(g_grbuflen);
  g_groups = malloc(sizeof(gid_t) * (size_t)(via_libc ? g_groups_libc_max : g_groups_size));
  if (!g_grbuf || !g_groups) die("%s", "out of memory");

  if (!via_libc) {
    void *h = dlopen(g_module_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) die("dlopen: %s", dlerror());
    g_getpwnam = (getpwnam_fn)sym(h, "getpwnam_r");
    if (!strcmp(g_op, "initgroups")) g_initgroups = (initgroups_fn)sym(h, "initgroups_dyn");
    if (!strcmp(g_op, "getgrnam")) g_getgrnam = (getgrnam_fn)sym(h, "getgrnam_r");
  }

  /* The clock's own cost: median of back-to-back reads. */
  uint64_t clk[1001];
  for (int i = 0; i < 1001; i++) {
    uint64_t a = now_ns();
    clk[i] = now_ns() - a;
  }
  qsort(clk, 1001, sizeof clk[0], cmp_u64);
  uint64_t clock_ns = clk[500];

  uint64_t *samples = NULL;
  long nsamples = 0, failures = 0, timed = count;
  double mean_ns = 0;

  if (!strcmp(g_op, "getpwnam_each")) {
    /* Each name once, no warm-up: every call a first lookup. */
    char *names = strdup(g_name);
    long n = 1;
    for (char *p = names; *p; p++) n += (*p == ',');
    if (count == 0 || count > n) count = n;
    samples = calloc((size_t)count, sizeof *samples);
    char *save = NULL, *tok = strtok_r(names, ",", &save);
    uint64_t sum = 0;
    for (long i = 0; i < count && tok; i++, tok = strtok_r(NULL, ",", &save)) {
      uint64_t t0 = now_ns();
      int ok = call(tok);
      uint64_t dt = now_ns() - t0;
      if (!ok) failures++;
      samples[nsamples++] = dt;
      sum += dt;
    }
    timed = nsamples;
    mean_ns = nsamples ? (double)sum / nsamples : 0;
  } else {
    if (!strcmp(g_op, "initgroups") || !strcmp(g_op, "getgrouplist")) {
      /* The user's primary gid, through the same path the op takes. */
      struct passwd *res = NULL;
      int err = 0;
      if (via_libc) {
        if (getpwnam_r(g_name, &g_pw, g_pwbuf, sizeof g_pwbuf, &res) != 0 || !res)
          die("getpwnam_r(%s) through glibc failed", g_name);
      } else if (g_getpwnam(g_name, &g_pw, g_pwbuf, sizeof g_pwbuf, &err) != NSS_STATUS_SUCCESS) {
        die("the module's getpwnam_r(%s) failed", g_name);
      }
      g_gid = g_pw.pw_gid;
    }
    if (!call(g_name)) die("the warm-up call failed for %s", g_name);

    uint64_t t0 = now_ns();
    for (long i = 0; i < count; i++)
      if (!call(g_name)) failures++;
    uint64_t t1 = now_ns();
    mean_ns = (double)(t1 - t0) / (double)count;

    nsamples = count < MAX_SAMPLES ? count : MAX_SAMPLES;
    samples = calloc((size_t)nsamples, sizeof *samples);
    for (long i = 0; i < nsamples; i++) {
      uint64_t a = now_ns();
      if (!call(g_name)) failures++;
      samples[i] = now_ns() - a;
    }
  }
  qsort(samples, (size_t)nsamples, sizeof *samples, cmp_u64);

  char result[128] = "";
  if (failures == 0) {
    if (!strcmp(g_op, "getpwnam") || !strcmp(g_op, "getpwnam_libc"))
      snprintf(result, sizeof result, "uid=%u gid=%u", (unsigned)g_pw.pw_uid, (unsigned)g_pw.pw_gid);
    else if (!strcmp(g_op, "initgroups") || !strcmp(g_op, "getgrouplist"))
      snprintf(result, sizeof result, "groups=%ld", g_result_n);
    else if (!strcmp(g_op, "getgrnam") || !strcmp(g_op, "getgrnam_libc"))
      snprintf(result, sizeof result, "gid=%u members=%ld", (unsigned)g_gr.gr_gid, g_result_n);
    else
      snprintf(result, sizeof result, "names=%ld", timed);
  }

  printf("{\"module\":");
  json_str(via_libc ? "libc" : g_module);
  printf(",\"op\":");
  json_str(g_op);
  printf(",\"name\":");
  json_str(strcmp(g_op, "getpwnam_each") ? g_name : "(list)");
  printf(",\"count\":%ld,\"ns_per_call\":%.1f,\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu,"
         "\"samples\":%ld,\"clock_ns\":%llu,\"failures\":%ld,\"result\":",
         timed, mean_ns, (unsigned long long)pct(samples, nsamples, 0.50),
         (unsigned long long)pct(samples, nsamples, 0.99),
         (unsigned long long)(nsamples ? samples[nsamples - 1] : 0), nsamples,
         (unsigned long long)clock_ns, failures);
  json_str(result);
  printf(",\"ok\":%s}\n", failures == 0 ? "true" : "false");
  return failures == 0 ? 0 : 1;
}
