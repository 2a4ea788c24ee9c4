SRCS += modules/dialog_decoder/dialog_decoder.c
