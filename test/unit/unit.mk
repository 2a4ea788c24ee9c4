# unit tests (cmocka)
