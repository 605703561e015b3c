#pragma once
// Public entry point of the livecommerce GStreamer plugin for programs that link
// it statically (target livecommerce_static), e.g. harvest-server:
//
//   gst_init(&argc, &argv);
//   harvest_livecommerce_register();   // productoverlay, productcue now in gst_element_factory_make()
//
// Without it, the same elements load from libgstlivecommerce.so via GST_PLUGIN_PATH.
#ifdef __cplusplus
extern "C" {
#endif

// Registers the plugin "livecommerce" with both elements. Call after gst_init();
// safe to call more than once (later calls return true without registering again).
// Returns false if registration failed.
bool harvest_livecommerce_register(void);

#ifdef __cplusplus
}
#endif
