; A 64 KiB firmware image that echoes COM1: every byte received is sent
; back; 'q' ends the run with status 1 (EXIT 0).  Real mode, polling.
%include "lib.inc"
[bits 16]
org 0
COM1 equ 0x3f8
start:
    mov dx, COM1 + 5
.wait_rx:
    in al, dx
    test al, 1
    jz .wait_rx
    mov dx, COM1
    in al, dx
    cmp al, 'q'
    je .done
    mov ah, al
    mov dx, COM1 + 5
.wait_tx:
    in al, dx
    test al, 0x20
    jz .wait_tx
    mov dx, COM1
    mov al, ah
    out dx, al
    jmp start
.done:
    EXIT 0
    times 0xFFF0 - ($ - $$) db 0xF4
    jmp 0xF000:start
    times 65536 - ($ - $$) db 0xF4
