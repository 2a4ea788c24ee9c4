SRCS += modules/rlmi_decoder/rlmi_decoder.c
