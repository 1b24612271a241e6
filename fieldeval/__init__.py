"""An evaluation of 数据比对 on lists the matcher was not fitted to (issue 16, item 6)."""
