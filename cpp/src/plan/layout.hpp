// Activation layout planning: which values live NHWC in the arena.
#pragma once
#include "engine/graph.hpp"

namespace wv {

// Marks as NHWC every int8 rank-4 activation that is produced by a conv2d or add and read only by conv2d (as x
// or residual) and add, and is neither a graph output nor a state update; then returns to NCHW any value an add
// or a residual would see in a layout other than its partners'. Everything else stays NCHW, so graph inputs,
// outputs, state and every other op see the file's layout: the changes of layout happen inside conv2d (its
// input is read NCHW or NHWC alike), i.e. only where the NHWC region of the graph begins or ends.
void assign_layouts(Graph& g);

}  // namespace wv
