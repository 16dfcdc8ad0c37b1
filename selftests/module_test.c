// SPDX-License-Identifier: GPL-2.0
/*
 * gomemguard.ko's life cycle: repeated load/unload, autoload through the
 * generic-netlink family alias, and what gomemctl says when the module is
 * not there.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <uapi/linux/gomemguard.h>

#include "genl_raw.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define CYCLES 20

static void ensure_unloaded(struct __test_metadata *_metadata)
{
	int err;

	if (!gmg_module_loaded())
		return;
	err = gmg_module_unload();
	ASSERT_EQ(0, err) TH_LOG("unload: %s", strerror(-err));
	ASSERT_FALSE(gmg_module_loaded());
}

TEST(load_unload_cycles)
{
	struct gr_reply r;
	struct gr_sock s;
	struct gr_msg m;
	int i, family, err;

	ensure_unloaded(_metadata);
	for (i = 0; i < CYCLES; i++) {
		err = gmg_module_load();
		ASSERT_EQ(0, err) TH_LOG("cycle %d: load: %s", i, strerror(-err));
		ASSERT_TRUE(gmg_module_loaded());

		/* Each incarnation must answer, not just exist. */
		ASSERT_EQ(0, gr_open(&s));
		family = gr_family(&s, GOMEMGUARD_GENL_NAME);
		ASSERT_LT(0, family) TH_LOG("cycle %d: %s", i, strerror(-family));
		gr_start(&m, family, GOMEMGUARD_CMD_INFO_GET,
			 GOMEMGUARD_GENL_VERSION);
		ASSERT_EQ(0, gr_transact(&s, &m, &r));
		ASSERT_EQ(0, r.err) TH_LOG("cycle %d: %s", i, r.extack);
		ASSERT_TRUE(r.has_data);
		gr_close(&s);

		err = gmg_module_unload();
		ASSERT_EQ(0, err) TH_LOG("cycle %d: unload: %s", i, strerror(-err));
		ASSERT_FALSE(gmg_module_loaded());
	}
}

TEST(loading_twice_is_refused)
{
	ensure_unloaded(_metadata);
	ASSERT_EQ(0, gmg_module_load());
	EXPECT_EQ(-EEXIST, gmg_module_load());
	EXPECT_EQ(0, gmg_module_unload());
}

TEST(cli_says_how_to_load_when_module_is_missing)
{
	static const char *const argv[] = { "info", NULL };
	char old[256];
	struct gmg_run r;
	int err;

	ensure_unloaded(_metadata);
	/* A host where the module is not installed: autoload finds nothing. */
	ASSERT_EQ(0, gmg_set_modprobe("", old, sizeof(old)));
	err = gmg_run_ctl(&r, -1, argv);
	ASSERT_EQ(0, gmg_set_modprobe(old, NULL, 0));
	ASSERT_EQ(0, err);
	/* 3: the module is unavailable, apart from the kernel refusing (1). */
	EXPECT_EQ(3, r.status);
	EXPECT_EQ(0, strlen(r.out)) TH_LOG("stdout: %s", r.out);
	EXPECT_NE(NULL, strstr(r.err, "not loaded")) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "modprobe gomemguard")) TH_LOG("stderr: %s", r.err);
	/* One clear line, not a cascade. */
	EXPECT_EQ(strlen(r.err) - 1, strcspn(r.err, "\n")) TH_LOG("stderr: %s", r.err);
	EXPECT_FALSE(gmg_module_loaded());
}

TEST(cli_autoloads_module)
{
	static const char *const argv[] = { "info", NULL };
	struct gmg_run r;

	ensure_unloaded(_metadata);
	ASSERT_EQ(0, gmg_run_ctl(&r, -1, argv));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_TRUE(gmg_module_loaded());
	EXPECT_NE(NULL, strstr(r.out, "gomemguard " GMG_VERSION)) TH_LOG("stdout: %s", r.out);
}

TEST_HARNESS_MAIN
