/* plugin_loader.c - being written this session */
