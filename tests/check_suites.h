/* check_suites.h - every unit test suite, one per module. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

Suite	*make_utf8_suite(void);
Suite	*make_frame_suite(void);
Suite	*make_session_suite(void);
Suite	*make_handshake_suite(void);
Suite	*make_config_suite(void);
Suite	*make_deflate_suite(void);
Suite	*make_admin_suite(void);
Suite	*make_tls_suite(void);
Suite	*make_sdnotify_suite(void);
Suite	*make_proxy_suite(void);
Suite	*make_framed_suite(void);
Suite	*make_muxproto_suite(void);
Suite	*make_admit_suite(void);
Suite	*make_spawn_suite(void);
Suite	*make_log_suite(void);
Suite	*make_clients_suite(void);
Suite	*make_fleet_suite(void);
Suite	*make_nametab_suite(void);

#endif
