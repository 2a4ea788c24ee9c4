SRCS += modules/dialog_encoder/dialog_encoder.c
