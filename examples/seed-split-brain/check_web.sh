#!/bin/bash
# Seed chapter 7.1 (seed lines 561-575): check_web.sh, run by keepalived's
# vrrp_script check_web on lb01 and lb02. Install as
# /server/scripts/check_web.sh (root:root, 0755). Unchanged from the seed: it
# starts nginx once, and if nginx is still dead it stops keepalived, so the
# peer takes the VIPs. It never exits non-zero on purpose: its weight 50 is
# always added and moves nothing; the VIPs move because keepalived stops.
nginxpid=$(ps -C nginx --no-header|wc -l)
#1.判断 Nginx 是否存活,如果不存活则尝试启动 Nginx
if [ $nginxpid -eq 0 ];then
    systemctl start nginx
    sleep 3
    #2.等待 3 秒后再次获取一次 Nginx 状态
    nginxpid=$(ps -C nginx --no-header|wc -l)
    #3.再次进行判断, 如 Nginx 还不存活则停止 Keepalived,让地址进行漂移,并退出脚本
    if [ $nginxpid -eq 0 ];then
        systemctl stop keepalived
    fi
fi
