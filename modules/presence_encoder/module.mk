SRCS += modules/presence_encoder/presence_encoder.c
