#pragma once
// Small building blocks for the branches linked into running pipelines (burned-in rendition,
// its ladder rungs, the restream taps): one way to add an element, to link two pads, and to
// count the buffers through a pad.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace harvest::media {

// Creates `factory` inside `bin` (named `name`; nullptr: GStreamer picks one). When the element
// is not installed returns nullptr and sets `error` unless an earlier failure already did, so a
// chain of calls reports the first missing element.
GstElement* add_element(GstElement* bin, const char* factory, const char* name, std::string& error);

// Links `src` to `sink` and releases the caller's references to both pads (either may be null,
// e.g. a request pad that could not be made). False when a pad is missing or the link fails.
bool link_pads(GstPad* src, GstPad* sink);

// A buffer (and buffer list) probe on `e`'s static pad `pad_name`.
void add_probe(GstElement* e, const char* pad_name, GstPadProbeCallback cb, gpointer data,
               GDestroyNotify destroy = nullptr);
// Buffers in a probe's data: 1, or the length of a buffer list.
guint64 buffers_in(GstPadProbeInfo* info);
// A probe callback adding the buffers that pass to the std::atomic<uint64_t> given as data.
GstPadProbeReturn count_probe(GstPad* pad, GstPadProbeInfo* info, gpointer counter);
// Calls `visit` with every element inside `bin`, at any depth, and the name of its factory
// ("" when it has none, as a plain bin made in code): how a probe finds the parts of an element
// such as webrtcbin that builds its insides itself.
void for_each_element(GstElement* bin, const std::function<void(GstElement*, std::string_view factory)>& visit);

// Buffers still held by a queue (its current-level-buffers), 0 for null.
uint64_t queue_level(GstElement* queue);

// Makes `videocrop` take off the last column and/or row of a frame whose width or height is
// odd, following every size the video changes to: x264 encodes only even sizes (4:2:0) and
// fails on an odd one, while VP8 has no such limit (a 720×1280 camera sent at
// scaleResolutionDownBy 1.5 is 480×853). An even-sized frame passes untouched.
void crop_to_even(GstElement* videocrop);

}  // namespace harvest::media
