/// \file bitfab.hpp
/// \brief The whole bitfab HLS streaming-kernel library.
#pragma once

#include "bitfab/activation.hpp"
#include "bitfab/add.hpp"
#include "bitfab/avgpool.hpp"
#include "bitfab/csim_init.hpp"
#include "bitfab/dwc.hpp"
#include "bitfab/fork.hpp"
#include "bitfab/iodma.hpp"
#include "bitfab/label_select.hpp"
#include "bitfab/maxpool.hpp"
#include "bitfab/mvau.hpp"
#include "bitfab/sliding_window.hpp"
#include "bitfab/thresholding.hpp"
#include "bitfab/types.hpp"
#include "bitfab/vvau.hpp"
