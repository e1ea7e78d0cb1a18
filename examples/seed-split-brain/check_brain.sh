#!/bin/bash
# Seed chapter 7.2 (seed lines 679-692): check_brain.sh, run by keepalived's
# vrrp_script check_brain on lb02. Install as /server/scripts/check_brain.sh
# (root:root, 0755). If lb01's nginx answers 200 through lb01's own address
# while this node holds lb01's VIP too, that is split brain: lb02 steps down
# by stopping its keepalived.
# Changed: the seed's 10.0.1.3 (lb01's VIP; 10.0.0.3 everywhere else in the
# seed) is 192.0.2.3, its 10.0.1.5 (lb01; elsewhere 10.0.0.5) is 192.0.2.5,
# blog.oldzhang.com is blog.example.org, and the VIP is matched as a fixed
# word (grep -wF: a plain grep for 192.0.2.3 also matches 192.0.2.30-39).

lb01_vip=192.0.2.3
lb01_nginx=$(curl -x 192.0.2.5:80 -I -s -w "%{http_code}\n" -o /dev/null  blog.example.org)

#ping -c 1 -W 1 ${lb01_ip} &>/dev/null
#如果lb01的IP能ping通,但是我自己也存在VIP,我就认为发生裂脑了,我就把自己的keep干掉
if [ ${lb01_nginx} -eq 200 -a `ip add|grep -wF "$lb01_vip"|wc -l` -eq 1 ];then
    echo "ha is bad" >> /tmp/check.txt
    systemctl stop keepalived
else
    echo "ha is ok" >> /tmp/check.txt
fi
