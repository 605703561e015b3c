#pragma once
// A higher CPU priority for the few threads whose delay a viewer sees at once. Today one: the
// burned-in branch's thread that decodes a frame and draws the card on it (the host's command
// must reach the picture within one frame even when the cores are busy with encoders, other
// streams or other programs; docs/media-link.md, "The drawing thread's priority").
namespace harvest {

// The calling thread's nice value.
int this_thread_nice();

// Sets the calling thread's nice value (negative: a larger share of a contended core and earlier
// wake-ups). Going below the process's nice needs CAP_SYS_NICE (root, or AmbientCapabilities in
// a service unit); without it the thread keeps its priority and the first refusal in the process
// is logged once. Returns whether the value took.
bool set_this_thread_nice(int nice);

}  // namespace harvest
