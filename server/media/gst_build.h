#pragma once
// Small building blocks for the branches linked into running pipelines (burned-in rendition,
// its ladder rungs, the restream taps): one way to add an element and to link two pads.
#include <gst/gst.h>

#include <string>

namespace harvest::media {

// Creates `factory` inside `bin` (named `name`; nullptr: GStreamer picks one). When the element
// is not installed returns nullptr and sets `error` unless an earlier failure already did, so a
// chain of calls reports the first missing element.
GstElement* add_element(GstElement* bin, const char* factory, const char* name, std::string& error);

// Links `src` to `sink` and releases the caller's references to both pads (either may be null,
// e.g. a request pad that could not be made). False when a pad is missing or the link fails.
bool link_pads(GstPad* src, GstPad* sink);

}  // namespace harvest::media
