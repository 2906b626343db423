/* runtime.c - being written this session */
