/* io.c - being written this session */
