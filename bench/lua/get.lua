dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
