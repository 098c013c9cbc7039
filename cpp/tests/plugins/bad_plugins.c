/* Broken plugins for the loader tests; WV_BAD_KIND selects which. */
#include <stddef.h>

#include "wayvert/sensor_plugin.h"

#if WV_BAD_KIND == 1 /* built for another ABI major */
static const char* describe(void) { return "{}"; }
static int32_t p_open(const wv_sp_rig* s, const wv_sp_canonical* c, void** h) { (void)s; (void)c; *h = NULL; return 0; }
static int32_t p_convert(void* h, const wv_sp_frame* f, int32_t n, wv_sp_output* o) { (void)h; (void)f; (void)n; (void)o; return 0; }
static void p_close(void* h) { (void)h; }
static const char* p_error(void* h) { (void)h; return ""; }
static const wv_sensor_plugin kPlugin = {WV_SENSOR_PLUGIN_ABI_MAJOR + 1, 0, "bad.abi", describe, p_open, p_convert, p_close, p_error};
__attribute__((visibility("default"))) const wv_sensor_plugin* wv_sensor_plugin_entry(void) { return &kPlugin; }
#elif WV_BAD_KIND == 2 /* exports no entry symbol */
__attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
#elif WV_BAD_KIND == 3 /* every call fails with a message */
static const char* describe(void) { return "{}"; }
static int32_t p_open(const wv_sp_rig* s, const wv_sp_canonical* c, void** h) { (void)s; (void)c; *h = NULL; return WV_SP_ERR_INPUT; }
static int32_t p_convert(void* h, const wv_sp_frame* f, int32_t n, wv_sp_output* o) { (void)h; (void)f; (void)n; (void)o; return WV_SP_ERR_INTERNAL; }
static void p_close(void* h) { (void)h; }
static const char* p_error(void* h) { (void)h; return "the camera is on fire"; }
static const wv_sensor_plugin kPlugin = {WV_SENSOR_PLUGIN_ABI_MAJOR, 0, "bad.failing", describe, p_open, p_convert, p_close, p_error};
__attribute__((visibility("default"))) const wv_sensor_plugin* wv_sensor_plugin_entry(void) { return &kPlugin; }
#endif
