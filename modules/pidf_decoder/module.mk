SRCS += modules/pidf_decoder/pidf_decoder.c
