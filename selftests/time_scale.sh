# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the selftests' shell scripts: GMG_TIME_SCALE, as gmg_util.c
# reads it for the C tests -- a whole number from 1 to 1000, default 1, by
# which every timeout, deadline and bounded wait is multiplied (a slow
# kernel, e.g. make check-debug's).  Sets gmg_scale; on a bad value, says
# so in KTAP ("Bail out!") and exits 1.

# Leading zeros are allowed, as strtoul() reads them, and dropped: bash
# arithmetic would take 010 for octal.
if [[ ${GMG_TIME_SCALE:-1} =~ ^0*([1-9][0-9]{0,3})$ ]] &&
   [ "${BASH_REMATCH[1]}" -le 1000 ]; then
	# shellcheck disable=SC2034 # for the script that sources this
	gmg_scale=${BASH_REMATCH[1]}
else
	echo "Bail out! GMG_TIME_SCALE=$GMG_TIME_SCALE: not a whole number from 1 to 1000"
	exit 1
fi
