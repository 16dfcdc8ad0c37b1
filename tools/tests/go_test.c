// SPDX-License-Identifier: GPL-2.0
/*
 * Go awareness, without a kernel: GOMEMLIMIT and GOGC as Go's runtime reads
 * them; the ELF reader on a real Go 1.19 binary (static, and with cgo), on
 * a C binary, on made-up executables of every class, byte order and build
 * info layout; and on thousands of truncated and corrupted copies of the
 * real ones, which must never make it read outside the file (ASan checks:
 * every copy is an allocation of exactly its size) nor call a C program
 * Go.  Then the verbs (goverbs_test.c).  KTAP on stdout.
 *
 * usage: go_test [GO_BINARY [CGO_BINARY]]
 * Default: build/workloads/gosleep and cgoleak of this tree, found from
 * this program's own path; tests that need one that is missing are
 * skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../goelf.h"
#include "../goenv.h"
#include "../nl.h"
#include "fake.h"
#include "go_test.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static const char *skip_why;
static struct go_bins bins;

/* GOMEMLIMIT: Go 1.19's parseByteCount, case by case. */

static const struct {
	const char *in;
	int err;
	uint64_t want;
} memlimit_cases[] = {
	{ "0", 0, 0 },
	{ "4096", 0, 4096 },
	{ "100B", 0, 100 },
	{ "512KiB", 0, 512 << 10 },
	{ "64MiB", 0, 64 * MIB },
	{ "3GiB", 0, 3 * GIB },
	{ "2TiB", 0, 2048 * GIB },
	{ "-0", 0, 0 },			/* Go's atoi64 takes it */
	{ "007MiB", 0, 7 * MIB },
	{ "9223372036854775807", 0, INT64_MAX },
	{ "9223372036854775807B", 0, INT64_MAX },
	{ "8589934591GiB", 0, 8589934591ULL * GIB },
	{ "9223372036854775808", -EINVAL, 0 },
	{ "8589934592GiB", -EINVAL, 0 },	/* 2^63 */
	{ "18446744073709551616", -EINVAL, 0 },
	{ "99999999999999999999TiB", -EINVAL, 0 },
	{ "64M", -EINVAL, 0 },
	{ "64MB", -EINVAL, 0 },
	{ "64Mi", -EINVAL, 0 },
	{ "64mib", -EINVAL, 0 },
	{ "64 MiB", -EINVAL, 0 },
	{ "1.5GiB", -EINVAL, 0 },
	{ "64PiB", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "B", -EINVAL, 0 },
	{ "iB", -EINVAL, 0 },
	{ "MiB", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "-1MiB", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ "-", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "off", -EINVAL, 0 },		/* readGOMEMLIMIT's, not a count */
};

static bool test_memlimit(void)
{
	bool ok = true;
	uint64_t got;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE_T(memlimit_cases); i++) {
		got = 0x5a5a5a5a;
		err = goenv_parse_memlimit(memlimit_cases[i].in, &got);
		if (err != memlimit_cases[i].err ||
		    (!err && got != memlimit_cases[i].want))
			ok = fail("\"%s\": %d, %" PRIu64 "; expected %d, %" PRIu64,
				  memlimit_cases[i].in, err, got,
				  memlimit_cases[i].err, memlimit_cases[i].want);
	}
	return ok;
}

/* Environment blocks as /proc/PID/environ has them. */
struct env_case {
	const char *env;
	size_t len;		/* 0: up to the string's end, with its NUL */
	enum goenv_memlimit memlimit;
	uint64_t bytes;
	const char *raw;	/* NULL: not set */
	bool gogc_off;
	int32_t gogc;
	const char *gogc_raw;
};

#define ENV(s) s, sizeof(s)

static const struct env_case env_cases[] = {
	{ ENV("HOME=/\0GOMEMLIMIT=64MiB\0GOMEMLIMIT=1GiB\0"), GOENV_BYTES,
	  64 * MIB, "64MiB", false, 100, NULL },
	{ ENV("GOMEMLIMIT=off\0GOGC=off\0"), GOENV_OFF, 0, "off", true, 0, "off" },
	{ ENV("GOMEMLIMIT=\0GOGC=\0"), GOENV_UNSET, 0, "", false, 100, "" },
	{ ENV("GOMEMLIMIT=64M\0GOGC=200\0"), GOENV_INVALID, 0, "64M", false,
	  200, "200" },
	{ ENV("XGOMEMLIMIT=1\0GOMEMLIMITX=2\0GOMEMLIMIT\0GOGC=-1\0"),
	  GOENV_UNSET, 0, NULL, true, -1, "-1" },
	{ "GOGC=2147483648\0GOMEMLIMIT=1GiB", 31, GOENV_BYTES, GIB, "1GiB",
	  false, 100, "2147483648" },
	{ ENV("GOGC=abc\0GOMEMLIMIT=\x1b[31m\0"), GOENV_INVALID, 0, "?[31m",
	  false, 100, "abc" },
	{ ENV("GOMEMLIMIT=1111111111111111111111111111111111111111111111111111111111111111111111\0"),
	  GOENV_INVALID, 0,
	  "111111111111111111111111111111111111111111111111111111111111111",
	  false, 100, NULL },
	{ "", 0, GOENV_UNSET, 0, NULL, false, 100, NULL },
};

static bool test_environ(void)
{
	struct goenv e;
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(env_cases); i++) {
		const struct env_case *c = &env_cases[i];

		goenv_parse(c->env, c->len, &e);
		if (e.memlimit != c->memlimit ||
		    (c->memlimit == GOENV_BYTES && e.memlimit_bytes != c->bytes) ||
		    e.has_gomemlimit != !!c->raw ||
		    (c->raw && strcmp(e.gomemlimit, c->raw)) ||
		    e.gogc_off != c->gogc_off ||
		    (!c->gogc_off && e.gogc_pct != c->gogc) ||
		    e.has_gogc != !!c->gogc_raw ||
		    (c->gogc_raw && strcmp(e.gogc, c->gogc_raw)))
			ok = fail("case %zu: memlimit %d %" PRIu64 " \"%s\" (set %d), gogc %s%d \"%s\"",
				  i, e.memlimit, e.memlimit_bytes, e.gomemlimit,
				  e.has_gomemlimit, e.gogc_off ? "off " : "",
				  e.gogc_pct, e.gogc);
	}
	return ok;
}

/* Made-up executables (go_test.h). */

#define SYN_NOTE_OFF	0x300
#define SYN_DATA_OFF	0x400
#define SYN_VADDR	0x500000
#define SYN_DATA_MAX	0x600
#define SYN_SIZE	0x1000

static const char frame_start[] = "0w\xaf\x0c\x92t\x08\x02" "A\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const char frame_end[] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

static void put16(unsigned char *p, bool be, uint16_t v)
{
	p[be ? 0 : 1] = (unsigned char)(v >> 8);
	p[be ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, bool be, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, bool be, uint64_t v)
{
	put32(p + (be ? 4 : 0), be, (uint32_t)v);
	put32(p + (be ? 0 : 4), be, (uint32_t)(v >> 32));
}

static void put_word(const struct synth *s, unsigned char *p, uint64_t v)
{
	if (s->is64)
		put64(p, s->be, v);
	else
		put32(p, s->be, (uint32_t)v);
}

static size_t put_uvarint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	for (; v >= 0x80; v >>= 7)
		p[n++] = (unsigned char)(v | 0x80);
	p[n++] = (unsigned char)v;
	return n;
}

/* The build info blob and its strings; how many bytes. */
static size_t synth_buildinfo(const struct synth *s, unsigned char *d)
{
	size_t ptr = s->is64 ? 8 : 4, n = 32, vlen = strlen(s->version), mlen;
	char mod[512];

	/* cmd/go's frames around the lines; the end one holds a NUL. */
	memcpy(mod, frame_start, 16);
	mlen = 16 + (size_t)snprintf(mod + 16, sizeof(mod) - 32,
				     "path\t%s\nmod\t%s\t(devel)\t\n",
				     s->path, s->module);
	memcpy(mod + mlen, frame_end, 16);
	mlen += 16;
	memcpy(d, "\xff Go buildinf:", 14);
	d[14] = (unsigned char)ptr;
	if (s->inline_strings) {
		d[15] = 2;
		n += put_uvarint(d + n, vlen);
		memcpy(d + n, s->version, vlen);
		n += vlen;
		n += put_uvarint(d + n, mlen);
		memcpy(d + n, mod, mlen);
		return n + mlen;
	}
	d[15] = s->be;
	/* Two Go string headers after the blob, then the bytes. */
	put_word(s, d + 16, SYN_VADDR + SYN_DATA_OFF + 32);
	put_word(s, d + 16 + ptr, SYN_VADDR + SYN_DATA_OFF + 32 + 2 * ptr);
	put_word(s, d + 32, SYN_VADDR + SYN_DATA_OFF + 32 + 4 * ptr);
	put_word(s, d + 32 + ptr, vlen);
	put_word(s, d + 32 + 2 * ptr, SYN_VADDR + SYN_DATA_OFF + 32 + 4 * ptr + vlen);
	put_word(s, d + 32 + 3 * ptr, mlen);
	n = 32 + 4 * ptr;
	memcpy(d + n, s->version, vlen);
	memcpy(d + n + vlen, mod, mlen);
	return n + vlen + mlen;
}

static void synth_phdr(const struct synth *s, unsigned char *p, uint32_t type,
		       uint32_t flags, uint64_t off, uint64_t size, uint64_t align)
{
	put32(p, s->be, type);
	if (s->is64) {
		put32(p + 4, s->be, flags);
		put64(p + 8, s->be, off);
		put64(p + 16, s->be, SYN_VADDR + off);
		put64(p + 24, s->be, SYN_VADDR + off);
		put64(p + 32, s->be, size);
		put64(p + 40, s->be, size);
		put64(p + 48, s->be, align);
	} else {
		put32(p + 4, s->be, (uint32_t)off);
		put32(p + 8, s->be, (uint32_t)(SYN_VADDR + off));
		put32(p + 12, s->be, (uint32_t)(SYN_VADDR + off));
		put32(p + 16, s->be, (uint32_t)size);
		put32(p + 20, s->be, (uint32_t)size);
		put32(p + 24, s->be, flags);
		put32(p + 28, s->be, (uint32_t)align);
	}
}

static void synth_shdr(const struct synth *s, unsigned char *p, uint32_t name,
		       uint32_t type, uint64_t addr, uint64_t off, uint64_t size)
{
	put32(p, s->be, name);
	put32(p + 4, s->be, type);
	put_word(s, p + (s->is64 ? 16 : 12), addr);
	put_word(s, p + (s->is64 ? 24 : 16), off);
	put_word(s, p + (s->is64 ? 32 : 20), size);
}

unsigned char *synth_elf(const struct synth *s, size_t *len)
{
	static const char shstrtab[] = "\0.go.buildinfo\0.shstrtab\0.note.go.buildid";
	static const char build_id[] = "synthetic/build/id";
	size_t ehsize = s->is64 ? 64 : 52, phent = s->is64 ? 56 : 32;
	size_t shent = s->is64 ? 64 : 40, data_len = 0, nph = 1, nsh;
	size_t str_off = SYN_DATA_OFF + SYN_DATA_MAX, sh_off = str_off + 64;
	unsigned char *f = must(calloc(1, SYN_SIZE)), *p;

	if (s->version)
		data_len = synth_buildinfo(s, f + SYN_DATA_OFF);
	if (data_len > SYN_DATA_MAX)
		abort();
	if (s->note) {
		p = f + SYN_NOTE_OFF;
		put32(p, s->be, 4);
		put32(p + 4, s->be, sizeof(build_id) - 1);
		put32(p + 8, s->be, 4);
		memcpy(p + 12, "Go\0\0", 4);
		memcpy(p + 16, build_id, sizeof(build_id) - 1);
		nph++;
	}
	memcpy(f, "\x7f" "ELF", 4);
	f[4] = s->is64 ? 2 : 1;
	f[5] = s->be ? 2 : 1;
	f[6] = 1;
	put16(f + 16, s->be, 2);
	put16(f + 18, s->be, s->is64 ? 62 : 3);
	put32(f + 20, s->be, 1);
	put_word(s, f + (s->is64 ? 32 : 28), ehsize);
	put16(f + (s->is64 ? 52 : 40), s->be, (uint16_t)ehsize);
	put16(f + (s->is64 ? 54 : 42), s->be, (uint16_t)phent);
	put16(f + (s->is64 ? 56 : 44), s->be, (uint16_t)nph);
	synth_phdr(s, f + ehsize, 1, 6, SYN_DATA_OFF, data_len ? data_len : 16,
		   0x1000);
	if (s->note)
		synth_phdr(s, f + ehsize + phent, 4, 4, SYN_NOTE_OFF,
			   16 + ((sizeof(build_id) - 1 + 3) & ~3UL), 4);
	if (s->sections) {
		nsh = s->note ? 4 : 3;
		memcpy(f + str_off, shstrtab, sizeof(shstrtab));
		synth_shdr(s, f + sh_off + shent, 1, 1, SYN_VADDR + SYN_DATA_OFF,
			   SYN_DATA_OFF, data_len);
		synth_shdr(s, f + sh_off + 2 * shent, 15, 3, 0, str_off,
			   sizeof(shstrtab));
		if (s->note)
			synth_shdr(s, f + sh_off + 3 * shent, 25, 7,
				   SYN_VADDR + SYN_NOTE_OFF, SYN_NOTE_OFF,
				   16 + ((sizeof(build_id) - 1 + 3) & ~3UL));
		put_word(s, f + (s->is64 ? 40 : 32), sh_off);
		put16(f + (s->is64 ? 58 : 46), s->be, (uint16_t)shent);
		put16(f + (s->is64 ? 60 : 48), s->be, (uint16_t)nsh);
		put16(f + (s->is64 ? 62 : 50), s->be, 2);
	}
	*len = SYN_SIZE;
	return f;
}

/* Every string the reader returns is printable and ends in its buffer. */
static bool printable(const char *s, size_t size)
{
	size_t i;

	for (i = 0; i < size && s[i]; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return i < size;
}

static bool sane(const struct goelf_info *gi)
{
	return printable(gi->version, sizeof(gi->version)) &&
	       printable(gi->path, sizeof(gi->path)) &&
	       printable(gi->module, sizeof(gi->module));
}

/* Parses len bytes from an allocation of exactly that size. */
static int parse_copy(const unsigned char *buf, size_t len,
		      struct goelf_info *gi)
{
	unsigned char *copy = must(malloc(len ? len : 1));
	int err;

	if (len)
		memcpy(copy, buf, len);
	err = goelf_read_mem(copy, len, gi);
	free(copy);
	return err;
}

static bool expect(const char *what, int err, const struct goelf_info *gi,
		   int want_err, const char *version, const char *path,
		   const char *module)
{
	if (err != want_err)
		return fail("%s: returned %d, expected %d", what, err, want_err);
	if (!sane(gi))
		return fail("%s: strings not printable or not terminated", what);
	if (strcmp(gi->version, version) || strcmp(gi->path, path) ||
	    strcmp(gi->module, module))
		return fail("%s: \"%s\" \"%s\" \"%s\", expected \"%s\" \"%s\" \"%s\"",
			    what, gi->version, gi->path, gi->module, version,
			    path, module);
	return true;
}

static const struct {
	const char *name;
	struct synth s;
	int err;
	const char *version;
} synth_cases[] = {
	{ "ELF64 LE, Go 1.18+", { true, false, true, true, true, "go1.21.5",
	  "example.com/svc/cmd/svc", "example.com/svc" }, 0, "go1.21.5" },
	{ "ELF64 BE, pointers", { true, true, false, true, false, "go1.17.13",
	  "example.com/svc/cmd/svc", "example.com/svc" }, 0, "go1.17.13" },
	{ "ELF32 LE, pointers", { false, false, false, true, true, "go1.16.15",
	  "example.com/svc/cmd/svc", "example.com/svc" }, 0, "go1.16.15" },
	{ "ELF32 BE, Go 1.18+", { false, true, true, true, false, "go1.20",
	  "example.com/svc/cmd/svc", "example.com/svc" }, 0, "go1.20" },
	{ "ELF64 LE, no section headers", { true, false, true, false, false,
	  "go1.19.8", "example.com/svc/cmd/svc", "example.com/svc" }, 0,
	  "go1.19.8" },
	{ "ELF32 BE, pointers, no section headers", { false, true, false,
	  false, false, "go1.15", "example.com/svc/cmd/svc", "example.com/svc" },
	  0, "go1.15" },
	{ "build ID note only", { true, false, true, true, true, NULL, NULL,
	  NULL }, 0, "" },
	{ "build ID note only, no sections", { false, true, true, false, true,
	  NULL, NULL, NULL }, 0, "" },
	{ "no Go marks", { true, false, true, true, false, NULL, NULL, NULL },
	  -ENOEXEC, "" },
};

static bool test_synthetic(void)
{
	struct goelf_info gi;
	unsigned char *f;
	bool ok = true;
	size_t i, len;
	int err;

	for (i = 0; i < ARRAY_SIZE_T(synth_cases); i++) {
		const struct synth *s = &synth_cases[i].s;
		bool has = s->version;

		f = synth_elf(s, &len);
		err = parse_copy(f, len, &gi);
		ok &= expect(synth_cases[i].name, err, &gi, synth_cases[i].err,
			     synth_cases[i].version,
			     has ? "example.com/svc/cmd/svc" : "",
			     has ? "example.com/svc" : "");
		free(f);
	}
	return ok;
}

/* A whole file into memory; NULL (with skip_why) when it is not there. */
static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	ssize_t n;
	int fd;

	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	buf = must(malloc(*len));
	n = read(fd, buf, *len);
	close(fd);
	if (n != (ssize_t)*len) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool skip_missing(const char *path, const char *what)
{
	static char why[256];

	snprintf(why, sizeof(why), "no %s at %s (make workloads)", what,
		 path ? path : "?");
	skip_why = why;
	return true;
}

static bool test_real(const char *path, const char *want_path)
{
	struct goelf_info gi;
	int fd, err;
	bool ok;

	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return skip_missing(path, "Go 1.19 binary");
	err = goelf_read_fd(fd, &gi);
	close(fd);
	ok = expect(path, err, &gi, 0, gi.version, want_path,
		    "gomemguard/workloads");
	if (ok && strncmp(gi.version, "go1.19", 6))
		ok = fail("version \"%s\" is not go1.19...", gi.version);
	return ok;
}

static bool test_real_go(void)
{
	return test_real(bins.go, "gomemguard/workloads/gosleep");
}

static bool test_real_cgo(void)
{
	return test_real(bins.cgo, "gomemguard/workloads/cgoleak");
}

static bool test_not_go(void)
{
	static const char *const files[] = { "/proc/self/exe", "/bin/sh",
					     "/etc/passwd", "/dev/null" };
	struct goelf_info gi;
	bool ok = true;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE_T(files); i++) {
		fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ok &= expect(files[i], goelf_read_fd(fd, &gi), &gi, -ENOEXEC,
			     "", "", "");
		close(fd);
	}
	ok &= expect("empty", parse_copy(NULL, 0, &gi), &gi, -ENOEXEC, "", "",
		     "");
	return ok;
}

/* The offset of the build info blob in a file, or 0. */
static size_t blob_offset(const unsigned char *f, size_t len)
{
	size_t i;

	for (i = 0; i + 32 <= len; i += 16) {
		if (!memcmp(f + i, "\xff Go buildinf:", 14))
			return i;
	}
	return 0;
}

/* The real binary with its section headers gone, or its blob broken. */
static bool test_real_damaged(void)
{
	struct goelf_info gi, whole;
	size_t len, blob;
	unsigned char *f;
	bool ok = true;

	f = slurp(bins.go, &len);
	if (!f)
		return skip_missing(bins.go, "Go 1.19 binary");
	ok &= expect("whole", parse_copy(f, len, &whole), &whole, 0,
		     whole.version, "gomemguard/workloads/gosleep",
		     "gomemguard/workloads");
	/* e_shoff = 0: found at the start of the first writable PT_LOAD. */
	memset(f + 40, 0, 8);
	ok &= expect("no section headers", parse_copy(f, len, &gi), &gi, 0,
		     whole.version, whole.path, whole.module);
	blob = blob_offset(f, len);
	if (!blob) {
		free(f);
		return fail("no build info blob found");
	}
	f[blob + 3] ^= 0xff;
	ok &= expect("blob broken: the note says Go", parse_copy(f, len, &gi),
		     &gi, 0, "", "", "");
	free(f);
	return ok;
}

static bool test_versions(void)
{
	static const struct {
		const char *v;
		int want;
	} cases[] = {
		{ "go1.19.8", 1 }, { "go1.19", 1 }, { "go1.18.10", 0 },
		{ "go1.2", 0 }, { "go1.20rc1", 1 }, { "go1.100", 1 },
		{ "devel go1.22-abcdef Tue Jan 2 15:04:05 2024 +0000", 1 },
		{ "go1", 0 }, { "go2.0", 1 }, { "", -1 }, { "gccgo", -1 },
		{ "go", -1 }, { "go1.", -1 }, { "go99999999999999999999.1", 1 },
	};
	bool ok = true;
	size_t i;
	int got;

	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		got = goelf_version_at_least(cases[i].v, 1, 19);
		if (got != cases[i].want)
			ok = fail("\"%s\": %d, expected %d", cases[i].v, got,
				  cases[i].want);
	}
	return ok;
}

/* Fuzzing: deterministic, so a failure is a failure every time. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * A prefix of len bytes: never beyond it (ASan), never an error but "not
 * Go", and Go once the prefix holds the build ID note (near the start in
 * every Go binary) -- or, for a C binary, never Go.
 */
static bool check_prefix(const unsigned char *f, size_t len, bool is_go,
			 size_t note_end)
{
	struct goelf_info gi;
	int err = parse_copy(f, len, &gi);

	if (err != 0 && err != -ENOEXEC)
		return fail("prefix of %zu bytes: error %d", len, err);
	if (!sane(&gi))
		return fail("prefix of %zu bytes: strings not sane", len);
	if (!is_go && !err)
		return fail("prefix of %zu bytes of a C binary is Go", len);
	if (is_go && len >= note_end && err)
		return fail("prefix of %zu bytes (note ends at %zu) not Go", len,
			    note_end);
	return true;
}

/* The end of the first Go note in the file (what the note test needs). */
static size_t go_note_end(const unsigned char *f, size_t len)
{
	size_t i;

	for (i = 0; i + 16 <= len; i += 4) {
		if (!memcmp(f + i, "\x04\0\0\0", 4) && !memcmp(f + i + 8, "\x04\0\0\0", 4) &&
		    !memcmp(f + i + 12, "Go\0\0", 4))
			return i + 16 + ((f[i + 4] | f[i + 5] << 8) + 3u) / 4 * 4;
	}
	return len;
}

static bool fuzz_truncate(const char *path, bool is_go)
{
	size_t len, i, note_end, blob, bounds[16], nb = 0;
	unsigned char *f;
	bool ok = true;

	f = slurp(path, &len);
	if (!f)
		return skip_missing(path, is_go ? "Go 1.19 binary" : "C binary");
	note_end = is_go ? go_note_end(f, len) : len;
	for (i = 0; i <= 4096 && i <= len && ok; i++)
		ok = check_prefix(f, i, is_go, note_end);
	for (i = 4096; i < 65536 && i < len && ok; i += 61)
		ok = check_prefix(f, i, is_go, note_end);
	/* Around the end of each structure the reader follows. */
	blob = blob_offset(f, len);
	bounds[nb++] = len;
	bounds[nb++] = note_end;
	if (blob) {
		bounds[nb++] = blob;
		bounds[nb++] = blob + 32;
		bounds[nb++] = blob + 41;
		bounds[nb++] = blob + 0x100;
	}
	for (i = 0; i < nb && ok; i++) {
		size_t j;

		for (j = bounds[i] > 40 ? bounds[i] - 40 : 0;
		     j <= bounds[i] + 40 && j <= len && ok; j++)
			ok = check_prefix(f, j, is_go, note_end);
	}
	for (i = 0; i < 200 && ok; i++)
		ok = check_prefix(f, (size_t)(next_random() % (len + 1)), is_go,
				  note_end);
	if (ok && check_prefix(f, len, is_go, 0) && is_go) {
		struct goelf_info gi;

		ok = !parse_copy(f, len, &gi) && gi.version[0];
		if (!ok)
			fail("the whole Go binary has no version");
	}
	free(f);
	return ok;
}

static bool test_fuzz_truncate_go(void)
{
	return fuzz_truncate(bins.go, true);
}

static bool test_fuzz_truncate_c(void)
{
	return fuzz_truncate(bins.c, false);
}

/* Bytes the reader's decisions hang on, to overwrite with hostile values. */
static void corrupt(unsigned char *f, size_t len, size_t blob, int n)
{
	static const uint64_t nasty[] = {
		0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff,
		0xfffffffffffffff0ULL, UINT64_MAX,
	};
	int i;

	for (i = 0; i < n; i++) {
		uint64_t r = next_random();
		size_t region = r % 4, at;

		switch (region) {
		case 0:		/* ELF header and program headers */
			at = (r >> 8) % (len < 0x200 ? len : 0x200);
			break;
		case 1:		/* section headers, notes, early data */
			at = (r >> 8) % (len < 0x1000 ? len : 0x1000);
			break;
		case 2:		/* the build info and its strings */
			at = blob ? blob + (r >> 8) % 0x180 : (r >> 8) % len;
			if (at >= len)
				at = len - 1;
			break;
		default:	/* anywhere, e.g. a C binary's section table */
			at = (r >> 8) % len;
			break;
		}
		if (r & 0x100000000ULL) {
			f[at] = (unsigned char)(r >> 40);
		} else {
			/* A whole word of a nasty value, where it fits. */
			uint64_t v = nasty[(r >> 40) % ARRAY_SIZE_T(nasty)];
			size_t k, w = (r >> 48) & 1 ? 8 : 4;

			for (k = 0; k < w && at + k < len; k++)
				f[at + k] = (unsigned char)(v >> (8 * k));
		}
	}
}

static bool fuzz_corrupt(const char *path, bool is_go)
{
	unsigned char *f, *pristine;
	size_t len, blob;
	struct goelf_info gi;
	bool ok = true;
	int i, err;

	f = slurp(path, &len);
	if (!f)
		return skip_missing(path, is_go ? "Go 1.19 binary" : "C binary");
	pristine = must(malloc(len));
	memcpy(pristine, f, len);
	blob = blob_offset(f, len);
	for (i = 0; i < 3000 && ok; i++) {
		corrupt(f, len, blob, 1 + (int)(next_random() % 8));
		err = goelf_read_mem(f, len, &gi);
		if ((err && err != -ENOEXEC) || !sane(&gi))
			ok = fail("corruption %d: error %d or strings not sane",
				  i, err);
		/* No random bytes make Go's magic, name or note owner. */
		if (!is_go && !err)
			ok = fail("corruption %d: a C binary became Go", i);
		memcpy(f, pristine, len);
	}
	free(pristine);
	free(f);
	return ok;
}

static bool test_fuzz_corrupt_go(void)
{
	return fuzz_corrupt(bins.go, true);
}

static bool test_fuzz_corrupt_c(void)
{
	return fuzz_corrupt(bins.c, false);
}

/* Hand-made hostile values, each where it hurts most. */
static bool test_hostile(void)
{
	struct synth s = { true, false, true, true, true, "go1.21.5", "p", "m" };
	unsigned char *f, *g;
	struct goelf_info gi;
	size_t len, blob;
	bool ok = true;
	int err;

	f = synth_elf(&s, &len);
	g = must(malloc(len));
	blob = blob_offset(f, len);

#define TRY(what, edit, want) do {					\
		memcpy(g, f, len);					\
		edit;							\
		err = goelf_read_mem(g, len, &gi);			\
		if (err != (want) || !sane(&gi))			\
			ok = fail("%s: %d", what, err);			\
	} while (0)

	TRY("e_phoff beyond the file", put64(g + 32, false, UINT64_MAX - 8), 0);
	TRY("e_phnum and e_phentsize huge", (put16(g + 54, false, 0xffff),
	    put16(g + 56, false, 0xffff)), 0);
	TRY("e_phentsize too small", put16(g + 54, false, 8), 0);
	TRY("e_shoff wraps around", put64(g + 40, false, UINT64_MAX - 8), 0);
	TRY("e_shstrndx beyond the table", put16(g + 62, false, 0xfff0), 0);
	TRY("section name offset beyond shstrtab",
	    put32(g + SYN_DATA_OFF + SYN_DATA_MAX + 64 + 64, false, 0xfffffff0), 0);
	TRY("section offset + size wraps around",
	    (put64(g + SYN_DATA_OFF + SYN_DATA_MAX + 64 + 64 + 24, false,
		   UINT64_MAX - 4),
	     put64(g + SYN_DATA_OFF + SYN_DATA_MAX + 64 + 64 + 32, false,
		   UINT64_MAX)), 0);
	TRY("version length beyond the data",
	    memset(g + blob + 32, 0xff, 9), 0);
	TRY("varint of 10 bytes of 0xff", memset(g + blob + 32, 0xff, 10), 0);
	TRY("note descsz huge", put32(g + SYN_NOTE_OFF + 4, false, 0xfffffff0),
	    0);
	TRY("note namesz huge, blob broken",
	    (put32(g + SYN_NOTE_OFF, false, 0xffffffff), g[blob] = 0),
	    -ENOEXEC);
	TRY("ELF class 3", g[4] = 3, -ENOEXEC);
	TRY("byte order 0", g[5] = 0, -ENOEXEC);
	free(f);

	/* Pointer layout: pointers to nowhere, lengths of everything. */
	s.inline_strings = false;
	s.note = false;
	f = synth_elf(&s, &len);
	TRY("version pointer to nowhere", put64(g + blob + 16, false, 0x10),
	    -ENOEXEC);
	TRY("version pointer wraps around",
	    put64(g + blob + 16, false, UINT64_MAX - 3), -ENOEXEC);
	TRY("version length huge",
	    put64(g + SYN_DATA_OFF + 32 + 8, false, UINT64_MAX), 0);
	TRY("modinfo length huge",
	    put64(g + SYN_DATA_OFF + 32 + 24, false, UINT64_MAX), 0);
	TRY("pointer size 16", g[blob + 14] = 16, -ENOEXEC);
	TRY("PT_LOAD offset + size wrap around",
	    (put64(g + 64 + 8, false, UINT64_MAX - 0x10),
	     put64(g + 64 + 32, false, UINT64_MAX)), -ENOEXEC);
#undef TRY
	free(f);
	free(g);
	return ok;
}

/* The descriptor path and the memory path agree, prefix by prefix. */
static bool test_fd_matches_mem(void)
{
	char tmp[] = "/tmp/gmg-goelf.XXXXXX";
	struct goelf_info a, b;
	size_t len, i, cut;
	unsigned char *f;
	bool ok = true;
	int fd, ea, eb;

	f = slurp(bins.go, &len);
	if (!f)
		return skip_missing(bins.go, "Go 1.19 binary");
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(f);
		return fail("mkstemp: %s", strerror(errno));
	}
	unlink(tmp);
	for (i = 0; i < 40 && ok; i++) {
		cut = i < 20 ? (size_t)(next_random() % 8192) :
			       (size_t)(next_random() % (len + 1));
		if (i == 39)
			cut = len;
		if (ftruncate(fd, 0) || pwrite(fd, f, cut, 0) != (ssize_t)cut) {
			ok = fail("writing %s: %s", tmp, strerror(errno));
			break;
		}
		ea = goelf_read_fd(fd, &a);
		eb = parse_copy(f, cut, &b);
		if (ea != eb || memcmp(&a, &b, sizeof(a)))
			ok = fail("%zu bytes: fd says %d \"%s\", memory %d \"%s\"",
				  cut, ea, a.version, eb, b.version);
	}
	close(fd);
	free(f);
	return ok;
}

static const struct {
	const char *name;
	bool (*fn)(void);
} tests[] = {
	{ "GOMEMLIMIT: Go's byte counts, suffixes, limits", test_memlimit },
	{ "environ: first definition, off, empty, invalid, GOGC, hostile text",
	  test_environ },
	{ "goelf: made-up ELF32/64, both byte orders, both layouts, notes",
	  test_synthetic },
	{ "goelf: a real Go 1.19 binary: version, package, module",
	  test_real_go },
	{ "goelf: a real Go 1.19 binary with cgo", test_real_cgo },
	{ "goelf: C binaries, text, devices and empty files are not Go",
	  test_not_go },
	{ "goelf: the real binary without section headers, or its blob broken",
	  test_real_damaged },
	{ "goelf: which Go versions read GOMEMLIMIT", test_versions },
	{ "goelf: truncated copies of the Go binary", test_fuzz_truncate_go },
	{ "goelf: truncated copies of a C binary", test_fuzz_truncate_c },
	{ "goelf: corrupted copies of the Go binary", test_fuzz_corrupt_go },
	{ "goelf: corrupted copies of a C binary", test_fuzz_corrupt_c },
	{ "goelf: hostile offsets, sizes, counts and lengths", test_hostile },
	{ "goelf: reading a file agrees with reading memory", test_fd_matches_mem },
};

/* A binary beside this program: <dir of tools/tests>/../../build/workloads. */
static const char *workload(const char *name)
{
	static char paths[3][PATH_MAX];
	static int n;
	char self[PATH_MAX], *dir;
	ssize_t len;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return NULL;
	self[len] = '\0';
	dir = dirname(self);
	snprintf(paths[n % 3], sizeof(paths[0]), "%s/../../build/workloads/%s",
		 dir, name);
	return paths[n++ % 3];
}

int main(int argc, char *argv[])
{
	const char *skip = NULL;
	struct gmc_nl *nl;
	size_t i;

	fake_init();
	setenv("TZ", "UTC", 1);
	bins.go = argc > 1 ? argv[1] : workload("gosleep");
	bins.cgo = argc > 2 ? argv[2] : workload("cgoleak");
	/* Not this program: goelf.o puts Go's magic in its .rodata. */
	bins.c = "/bin/sh";
	bins.fuse = workload("leaky");
	printf("TAP version 13\n1..%zu\n",
	       ARRAY_SIZE_T(tests) + goverbs_test_count());
	for (i = 0; i < ARRAY_SIZE_T(tests); i++) {
		bool ok;

		skip_why = NULL;
		ok = tests[i].fn();
		ktap_result(skip_why ? KTAP_SKIP : ok ? KTAP_PASS : KTAP_FAIL,
			    tests[i].name, skip_why);
	}

	/* The verbs need a netlink socket for the fake kernel. */
	fake_reset();
	nl = fake_open_family("test", "nlctrl");
	if (!nl)
		skip = "generic netlink is not usable here";
	gmc_nl_close(nl);
	goverbs_test_run(&bins, skip);
	fake_reset();
	return ktap_finish();
}
