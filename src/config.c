/* config.c - being written this session */
