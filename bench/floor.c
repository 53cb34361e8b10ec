/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the start-up floor for `tba header`.
 *
 * An empty main linked with the same shared libraries as tba (libtba,
 * p11-kit, libcrypto, libcurl, libcjson, pthread; kept as NEEDED with
 * --no-as-needed), so spawning it costs what the dynamic loader and the
 * libraries' constructors cost. `tba header` minus this is tba's own work.
 */
int
main(void)
{
	return 0;
}
