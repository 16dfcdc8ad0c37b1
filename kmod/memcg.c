// SPDX-License-Identifier: GPL-2.0
/*
 * The memcg side of the picture: how full a process's memory cgroup is, and
 * how much of that the kernel could drop without an OOM kill.
 *
 * usage, memory.max and memory.high are page counters in struct mem_cgroup,
 * public on every kernel we support.  The anon/file split is not: 6.12 made
 * the per-memcg statistics private.  Its one stable interface is the
 * memory.stat file, so we read that -- through a private kernel mount of
 * cgroup2, which does not depend on where, or whether, user space mounted
 * it.  Reading costs a few microseconds of formatting, so results are cached
 * per memcg for GMG_STAT_TTL.
 */
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/memcontrol.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/page_counter.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/xarray.h>

#include "gomemguard.h"

#define GMG_STAT_TTL	msecs_to_jiffies(200)
/* A cached entry nobody asked about for this long is dropped. */
#define GMG_STAT_IDLE	(60 * HZ)
#define GMG_STAT_BUF	4096

/* How fast what the memcg cannot reclaim grows: a steady, short view. */
#define GMG_MEMCG_WINDOW	(2 * NSEC_PER_SEC)

struct gmg_memcg_stat {
	unsigned long read_at;		/* jiffies */
	u64 reclaimable;
	struct gmg_growth growth;	/* of anon + shmem + pinned file */
};

static struct vfsmount *gmg_cgroup_mnt;
static DEFINE_XARRAY(gmg_stats);	/* cgroup id -> struct gmg_memcg_stat */
static DEFINE_MUTEX(gmg_stats_lock);	/* serialises reads, owns the buffer */
static char *gmg_stat_buf;

/* The value of "key N" in memory.stat text; 0 when the key is absent. */
static u64 stat_value(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *p = buf;
	u64 v = 0;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ' ') {
			for (p += klen + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (*p - '0');
			return v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/*
 * Clean, unmapped page cache: what reclaim drops without I/O and without
 * touching a running program.  shmem/tmpfs sits on the anon LRU and is not
 * in active_file/inactive_file at all; dirty, under-writeback and mapped
 * file pages are counted as pinned.
 */
static u64 reclaimable_from_stat(const char *buf)
{
	u64 lru = stat_value(buf, "active_file") + stat_value(buf, "inactive_file");
	u64 pinned = stat_value(buf, "file_dirty") +
		     stat_value(buf, "file_writeback") +
		     stat_value(buf, "file_mapped");

	return lru > pinned ? lru - pinned : 0;
}

/* What reclaim cannot take without swap: anon, shmem, and pinned file pages. */
static u64 unreclaimable_from_stat(const char *buf)
{
	return stat_value(buf, "anon") + stat_value(buf, "shmem") +
	       stat_value(buf, "file_dirty") + stat_value(buf, "file_writeback") +
	       stat_value(buf, "file_mapped");
}

/* Read cgroup file @name of @memcg into gmg_stat_buf.  gmg_stats_lock held. */
static int read_cgroup_file(struct mem_cgroup *memcg, const char *name)
{
	char path[GMG_PATH_MAX + 32];
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	int len;

	lockdep_assert_held(&gmg_stats_lock);
	len = cgroup_path(memcg->css.cgroup, path, GMG_PATH_MAX);
	if (len < 0 || len >= GMG_PATH_MAX)
		return -ENAMETOOLONG;
	/* Relative to the root of our own mount; "/" is the root cgroup. */
	snprintf(path + len, sizeof(path) - len, "%s%s", len == 1 ? "" : "/", name);
	f = file_open_root_mnt(gmg_cgroup_mnt, path + 1, O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, gmg_stat_buf, GMG_STAT_BUF - 1, &pos);
	fput(f);
	if (n < 0)
		return n;
	gmg_stat_buf[n] = '\0';
	return 0;
}

/* "some avg10=1.23 ..." -> 123 (hundredths of a percent); -1: absent. */
static int psi_avg10(const char *buf, const char *line)
{
	const char *p = strstr(buf, line);
	unsigned int whole = 0, frac = 0;

	if (!p || sscanf(p + strlen(line), " avg10=%u.%2u", &whole, &frac) < 1)
		return -1;
	return whole * 100 + frac;
}

/* Process context: may sleep. */
void gmg_memcg_read(struct mem_cgroup *memcg, struct gmg_memcg_view *v)
{
	struct gmg_memcg_stat *st;
	unsigned long max, high;

	v->id = cgroup_id(memcg->css.cgroup);
	v->usage = (u64)page_counter_read(&memcg->memory) << PAGE_SHIFT;
	max = READ_ONCE(memcg->memory.max);
	high = READ_ONCE(memcg->memory.high);
	v->max = max == PAGE_COUNTER_MAX ? U64_MAX : (u64)max << PAGE_SHIFT;
	v->high = high == PAGE_COUNTER_MAX ? U64_MAX : (u64)high << PAGE_SHIFT;
	v->reclaimable = 0;
	v->rate = 0;
	v->sustained = false;
	/* The root has no memory.stat; root_mem_cgroup is not exported. */
	if (!memcg->css.parent)
		return;

	mutex_lock(&gmg_stats_lock);
	st = xa_load(&gmg_stats, v->id);
	if (!st) {
		st = kzalloc(sizeof(*st), GFP_KERNEL);
		if (st && xa_err(xa_store(&gmg_stats, v->id, st, GFP_KERNEL))) {
			kfree(st);
			st = NULL;
		}
	}
	if (st && (!st->read_at || time_after(jiffies, st->read_at + GMG_STAT_TTL))) {
		/*
		 * The growth is taken from memory.stat alone: its numbers may
		 * lag usage by the kernel's stats flush period (2 s), and
		 * usage minus a stale reclaimable figure would grow while
		 * nothing but clean cache does.
		 */
		if (!read_cgroup_file(memcg, "memory.stat")) {
			st->reclaimable = reclaimable_from_stat(gmg_stat_buf);
			gmg_growth_update(&st->growth, GMG_MEMCG_WINDOW,
					  ktime_get_boottime_ns(),
					  unreclaimable_from_stat(gmg_stat_buf));
		}
		st->read_at = jiffies;
	}
	/* Unknown (no memory for the cache): assume nothing is reclaimable. */
	if (st) {
		v->reclaimable = min(st->reclaimable, v->usage);
		v->rate = st->growth.rate;
		v->sustained = st->growth.sustained;
	}
	mutex_unlock(&gmg_stats_lock);
}

/* The full picture, for MEMCG_GET: process context, reads the files fresh. */
void gmg_memcg_read_full(struct mem_cgroup *memcg, struct gmg_memcg_full *f)
{
	u64 lru, pinned;

	memset(f, 0, sizeof(*f));
	gmg_memcg_read(memcg, &f->view);
	f->psi_some = -1;
	f->psi_full = -1;
	f->events_high = atomic_long_read(&memcg->memory_events[MEMCG_HIGH]);
	f->events_max = atomic_long_read(&memcg->memory_events[MEMCG_MAX]);
	f->events_oom = atomic_long_read(&memcg->memory_events[MEMCG_OOM]);
	f->events_oom_kill = atomic_long_read(&memcg->memory_events[MEMCG_OOM_KILL]);
	if (!memcg->css.parent)
		return;
	mutex_lock(&gmg_stats_lock);
	if (!read_cgroup_file(memcg, "memory.stat")) {
		f->anon = stat_value(gmg_stat_buf, "anon");
		f->file = stat_value(gmg_stat_buf, "file");
		f->shmem = stat_value(gmg_stat_buf, "shmem");
		lru = stat_value(gmg_stat_buf, "active_file") +
		      stat_value(gmg_stat_buf, "inactive_file");
		f->view.reclaimable = reclaimable_from_stat(gmg_stat_buf);
		pinned = lru - min(lru, f->view.reclaimable);
		/* shmem/tmpfs cannot go without swap: pinned too. */
		f->pinned = pinned + f->shmem;
	}
	if (!read_cgroup_file(memcg, "memory.pressure")) {
		f->psi_some = psi_avg10(gmg_stat_buf, "some");
		f->psi_full = psi_avg10(gmg_stat_buf, "full");
	}
	mutex_unlock(&gmg_stats_lock);
}

/* @memcg may be NULL (task gone): "?". */
void gmg_memcg_path(struct mem_cgroup *memcg, char *buf, size_t len)
{
	if (!memcg || cgroup_path(memcg->css.cgroup, buf, len) < 0)
		strscpy(buf, "?", len);
}

/* Forget memcgs not read for a while (they may be gone for good). */
static void gmg_memcg_prune(bool all)
{
	struct gmg_memcg_stat *st;
	unsigned long id;

	mutex_lock(&gmg_stats_lock);
	xa_for_each(&gmg_stats, id, st) {
		if (all || time_after(jiffies, st->read_at + GMG_STAT_IDLE)) {
			xa_erase(&gmg_stats, id);
			kfree(st);
		}
	}
	mutex_unlock(&gmg_stats_lock);
}

void gmg_memcg_housekeeping(void)
{
	gmg_memcg_prune(false);
}

int gmg_memcg_init(void)
{
	struct file_system_type *type;

	if (mem_cgroup_disabled()) {
		pr_err("the memory cgroup controller is disabled (cgroup_disable=memory)\n");
		return -ENODEV;
	}
	type = get_fs_type("cgroup2");
	if (!type) {
		pr_err("no cgroup2 filesystem\n");
		return -ENODEV;
	}
	gmg_stat_buf = kmalloc(GMG_STAT_BUF, GFP_KERNEL);
	if (!gmg_stat_buf)
		return -ENOMEM;
	gmg_cgroup_mnt = vfs_kern_mount(type, 0, "cgroup2", NULL);
	if (IS_ERR(gmg_cgroup_mnt)) {
		int err = PTR_ERR(gmg_cgroup_mnt);

		pr_err("cannot mount cgroup2 internally: %d\n", err);
		kfree(gmg_stat_buf);
		return err;
	}
	return 0;
}

void gmg_memcg_uninit(void)
{
	gmg_memcg_prune(true);
	mntput(gmg_cgroup_mnt);
	kfree(gmg_stat_buf);
}
