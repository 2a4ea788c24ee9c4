SRCS += modules/vendorxml_decoder/vendorxml_decoder.c
