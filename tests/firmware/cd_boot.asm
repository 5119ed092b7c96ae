; A no-emulation El Torito boot image (tests/firmware/bios_test.sh puts
; it on an ISO with xorriso).  The BIOS loads its 2048 bytes at 0x7C00
; and passes the CD's drive number in DL.  It prints a marker to the debug
; console (port 0xE9), reads the ISO's primary volume descriptor (LBA 16,
; 2048-byte sectors) with INT 13h AH=42h, checks its "CD001" identifier,
; and leaves through the exit port 0xF4 with 0 (status 1); a failure
; prints FAIL and exits with 0x10 (status 33).
bits 16
org 0x7c00

PVD equ 0x8000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [drive], dl
    mov si, msg_boot
    call print
    mov si, dap
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    mov si, PVD + 1
    mov di, cd001
    mov cx, 5
    repe cmpsb
    jne fail
    cmp byte [PVD], 1           ; volume descriptor type: primary
    jne fail
    mov si, msg_pvd
    call print
    xor al, al
    out 0xf4, al
    cli
    hlt

print:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp print
.done:
    ret

fail:
    mov si, msg_fail
    call print
    mov al, 0x10
    out 0xf4, al
    cli
    hlt

drive: db 0
dap:
    db 0x10, 0
    dw 1                        ; one 2048-byte sector
    dw PVD, 0
    dq 16
cd001:    db "CD001"
msg_boot: db "CDBOOT: running from the CD", 10, 0
msg_pvd:  db "CDBOOT: read the primary volume descriptor", 10, 0
msg_fail: db "FAIL", 10, 0
    times 2048 - ($ - $$) db 0
